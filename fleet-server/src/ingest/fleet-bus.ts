/**
 * @module ingest/fleet-bus
 * The server's own MQTT client: subscribes to every device's presence, telemetry and update
 * channels and hands validated messages to the ingest handlers. Anything unknown or malformed
 * is logged with its reason and dropped; one bad device cannot stop the others.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { TOPIC_PREFIX, parseDeviceTopic, type DeviceChannel } from '@edgeloop/protocol';
import type { ChannelHandler, DeviceTransport } from './device-transport.js';

export type { ChannelHandler } from './device-transport.js';

/** The transport for an external broker; the embedded one hands device traffic over in-process. */
export class FleetBus implements DeviceTransport {
  private readonly client: MqttClient;
  private readonly handlers = new Map<DeviceChannel, ChannelHandler>();
  rejected = 0;

  private constructor(
    client: MqttClient,
    private readonly log: Logger,
  ) {
    this.client = client;
    client.on('message', (topic, payload) => void this.dispatch(topic, payload));
  }

  /** `auth` also carries the TLS client options (ca, rejectUnauthorized) for an mqtts:// broker. */
  static async connect(
    url: string,
    log: Logger,
    auth: { username?: string; password?: string } & {
      ca?: string;
      rejectUnauthorized?: boolean;
      checkServerIdentity?: () => undefined;
    } = {},
  ): Promise<FleetBus> {
    const client = mqtt.connect(url, {
      clientId: `edgeloop-fleet-${randomBytes(4).toString('hex')}`,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...auth,
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (err) => reject(new Error(`cannot connect to the MQTT broker at ${url}: ${err.message}`)));
    });
    client.on('error', (err) => log.warn({ err: err.message }, 'fleet bus error; reconnecting'));
    const bus = new FleetBus(client, log);
    await client.subscribeAsync(`${TOPIC_PREFIX}/#`, { qos: 1 });
    return bus;
  }

  on(channel: DeviceChannel, handler: ChannelHandler): void {
    this.handlers.set(channel, handler);
  }

  private async dispatch(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseDeviceTopic(topic);
    if (!parsed.ok) {
      this.rejected++;
      this.log.warn({ topic, reason: parsed.reason }, 'rejected message on unknown topic');
      return;
    }
    const handler = this.handlers.get(parsed.channel);
    if (!handler) return; // our own outbound channels (ack, desired)
    try {
      await handler(parsed.deviceId, payload);
    } catch (err) {
      this.rejected++;
      this.log.error({ topic, err: (err as Error).message }, 'handler failed; message dropped');
    }
  }

  publish(topic: string, payload: Buffer, retain = false): Promise<void> {
    return this.client.publishAsync(topic, payload, { qos: 1, retain }).then(() => undefined);
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
