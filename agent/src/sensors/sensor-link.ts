/**
 * @module sensors/sensor-link
 * Subscribes to the topics of existing sensors — on the fleet broker or on local/site brokers
 * such as a Mosquitto already running beside the device — and hands each reading to the unit its
 * binding's role belongs to (reference values, sensor inputs). One MQTT connection per broker;
 * bad payloads are logged and counted, never passed on.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { readSensorPayload, type SensorReading } from './payload.js';
import type { SensorBinding, SensorsConfig } from './sensor-config.js';
import { ConfigError } from '../config.js';

/** Takes one valid reading; returns what became of it (for the debug log). May throw. */
export type ReadingSink = (binding: SensorBinding, reading: SensorReading, now: number) => string;

export interface SensorLinkStats {
  messages: number;
  rejected: number;
}

/** MQTT topic filter matching (+ one level, # the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

export class SensorLink {
  private readonly clients: MqttClient[] = [];
  readonly stats: SensorLinkStats = { messages: 0, rejected: 0 };

  constructor(
    config: SensorsConfig,
    /** `ca`: PEM of the fleet CA pinned at enrollment (the fleet broker may speak TLS with it). */
    fleet: { url: string; username?: string; password?: string; ca?: string },
    deviceId: string,
    private readonly sink: ReadingSink,
    private readonly log: Logger,
  ) {
    const byBroker = new Map<string, SensorBinding[]>();
    for (const b of config.bindings) byBroker.set(b.broker, [...(byBroker.get(b.broker) ?? []), b]);
    for (const [broker, bindings] of byBroker) {
      const site = config.brokers[broker];
      const conn = broker === 'fleet' ? fleet : { ...site!, ca: site!.ca ? readSiteCa(site!.ca, broker) : undefined };
      const client = mqtt.connect(conn.url, {
        // `<device id>:…`: the fleet broker accepts a device's second connection only under this form.
        clientId: `${deviceId}:sensors:${broker}`.slice(0, 128),
        clean: true,
        reconnectPeriod: 2000,
        writeCache: false, // see FleetLink: the number cache is ~6 MB the agent does not need
        ...(conn.username ? { username: conn.username } : {}),
        ...(conn.password ? { password: conn.password } : {}),
        ...(conn.ca ? { ca: conn.ca } : {}),
      });
      client.on('connect', () => {
        log.info({ broker, url: conn.url, topics: bindings.map((b) => b.topic) }, 'sensor broker connected');
        client.subscribe(
          bindings.map((b) => b.topic),
          { qos: 1 },
          (err) => {
            if (err) log.error({ broker, err: err.message }, 'cannot subscribe to sensor topics');
          },
        );
      });
      client.on('error', (err) =>
        log.warn({ broker, url: conn.url, err: err.message }, 'sensor broker error; retrying'),
      );
      client.on('message', (topic, payload) => this.handle(bindings, topic, payload));
      this.clients.push(client);
    }
  }

  /** Stats count MQTT messages: one message may feed several bindings, or fail for some of them. */
  private handle(bindings: readonly SensorBinding[], topic: string, payload: Buffer): void {
    const now = Date.now();
    let matched = false;
    let rejected = false;
    for (const binding of bindings) {
      if (!topicMatches(binding.topic, topic)) continue;
      matched = true;
      const reading = readSensorPayload(payload, binding.payload, binding, now);
      if (!reading.ok) {
        rejected = true;
        this.log.warn(
          { binding: binding.name, topic, code: reading.code, reason: reading.reason },
          'rejected sensor message',
        );
        continue;
      }
      try {
        const outcome = this.sink(binding, reading.value, now);
        this.log.debug(
          { binding: binding.name, role: binding.role, topic, value: reading.value.value, outcome },
          'sensor value',
        );
      } catch (err) {
        rejected = true;
        this.log.error(
          { binding: binding.name, role: binding.role, err: (err as Error).message },
          'could not take a sensor value',
        );
      }
    }
    if (matched) this.stats.messages++;
    if (rejected) this.stats.rejected++;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.endAsync()));
  }
}

function readSiteCa(path: string, broker: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `sensors.brokers.${broker}.ca: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the PEM file of the CA that signed the broker's certificate`,
    );
  }
}
