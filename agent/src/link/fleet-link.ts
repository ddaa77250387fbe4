/**
 * @module link/fleet-link
 * The agent's MQTT connection to the fleet: last will, birth on every (re)connect, the
 * subscriptions (ack, desired, and chunk for MQTT artifact transfer) and validated dispatch of
 * what arrives. Nothing here buffers data: the durable outbox is SQLite (outbox/outbox.ts), and
 * MQTT.js only ever holds what is in flight.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  ackSchema,
  decodeMessage,
  deviceTopic,
  encodeMessage,
  isTlsVerifyError,
  parseDeviceTopic,
  type Ack,
  type Birth,
  type Presence,
} from '@edgeloop/protocol';
import { untrustedServerMessage, type PinnedCa } from './fleet-tls.js';

export interface FleetLinkOptions {
  mqttUrl: string;
  deviceId: string;
  username?: string;
  password?: string;
  /** The fleet CA pinned at enrollment: the only one an mqtts:// broker may be signed by. */
  ca?: PinnedCa;
  /** Persisted boot counter; the link derives one session number per connection from it. */
  boot: number;
  birth: (session: number) => Birth;
  onAck: (ack: Ack) => void;
  /** Raw `desired` payloads: signed, so verified by the receiver (updates/desired-gate.ts). */
  onDesired: (payload: Buffer) => void;
  /** Raw `chunk` payloads (artifact blocks); validated by the receiver (updates/mqtt-chunk-source.ts). */
  onChunk?: (payload: Buffer) => void;
  onConnectionChange: (connected: boolean) => void;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  log: Logger;
}

/** Connections per boot fit below this; sessions stay increasing across reboots. */
const CONNECTIONS_PER_BOOT = 1_000_000;

export class FleetLink {
  private readonly client: MqttClient;
  private connections = 0;
  private failedAttempts = 0;
  /**
   * Session number of the current connection attempt, carried by both its last will and its
   * birth (Sparkplug's bdSeq). A new number per connection lets the server ignore a will that
   * the broker publishes late for a connection we already replaced.
   */
  private session: number;
  /**
   * The session of the last birth sent (undefined before the first). Update reports are stamped
   * with it as they go out (outbox/update-report-stream.ts): the outbox sends only after the
   * birth of the connection, so the server holds that session when the report arrives.
   */
  announcedSession: number | undefined;
  connected = false;

  constructor(private readonly opts: FleetLinkOptions) {
    this.session = this.nextSession();
    this.client = mqtt.connect(opts.mqttUrl, {
      clientId: opts.deviceId,
      clean: true,
      keepalive: 30,
      reconnectPeriod: opts.reconnectMinMs,
      connectTimeout: 10_000,
      ...(opts.username ? { username: opts.username } : {}),
      ...(opts.password ? { password: opts.password } : {}),
      ...(opts.ca ? { ca: opts.ca.pem } : {}),
      rejectUnauthorized: true,
      will: { topic: deviceTopic(opts.deviceId, 'presence'), payload: this.deathPayload(), qos: 1, retain: true },
      // Our outbox is SQLite; MQTT.js must not keep a second, unbounded, in-memory queue (#1121).
      queueQoSZero: false,
      // mqtt-packet otherwise pre-builds 65,536 two-byte Buffers (about 6 MB of RSS on a device)
      // to save one tiny allocation per packet id; the agent sends a few packets a second.
      writeCache: false,
    });
    this.client.on('connect', () => this.handleConnect());
    this.client.on('close', () => {
      this.setConnected(false);
      this.backOff();
      // MQTT.js rebuilds CONNECT from options on every reconnect, so the next will gets the next session.
      this.session = this.nextSession();
      if (this.client.options.will) this.client.options.will.payload = this.deathPayload();
    });
    this.client.on('error', (err) => {
      if (isTlsVerifyError(err))
        opts.log.error(
          { mqttUrl: opts.mqttUrl, code: err.code },
          untrustedServerMessage('fleet broker', err.code!, opts.ca),
        );
      else opts.log.warn({ err: err.message, mqttUrl: opts.mqttUrl }, 'fleet link error; retrying');
    });
    this.client.on('message', (topic, payload) => this.handleMessage(topic, payload));
  }

  /**
   * Exponential backoff with full jitter, so a fleet that lost its broker does not reconnect in
   * lockstep. MQTT.js schedules a reconnect from its own 'close' listener (registered before
   * ours), so the period set here applies to the attempt after the one being scheduled.
   */
  private backOff(): void {
    this.failedAttempts++;
    const ceiling = Math.min(
      this.opts.reconnectMaxMs,
      this.opts.reconnectMinMs * 2 ** Math.min(this.failedAttempts, 16),
    );
    this.client.options.reconnectPeriod = Math.round(
      this.opts.reconnectMinMs + Math.random() * (ceiling - this.opts.reconnectMinMs),
    );
  }

  private handleConnect(): void {
    this.failedAttempts = 0;
    this.client.options.reconnectPeriod = this.opts.reconnectMinMs;
    const id = this.opts.deviceId;
    const topics = [
      deviceTopic(id, 'ack'),
      deviceTopic(id, 'desired'),
      ...(this.opts.onChunk ? [deviceTopic(id, 'chunk')] : []),
    ];
    this.client.subscribe(topics, { qos: 1 }, (err) => {
      if (err) this.opts.log.error({ err: err.message }, 'subscribe failed');
    });
    this.announcedSession = this.session;
    this.publish(deviceTopic(id, 'presence'), encodeMessage(this.opts.birth(this.session)), true);
    this.opts.log.info({ mqttUrl: this.opts.mqttUrl }, 'connected to fleet');
    this.setConnected(true);
  }

  private setConnected(value: boolean): void {
    if (this.connected === value) return;
    this.connected = value;
    this.opts.onConnectionChange(value);
  }

  private handleMessage(topic: string, payload: Buffer): void {
    const parsed = parseDeviceTopic(topic);
    if (!parsed.ok || parsed.deviceId !== this.opts.deviceId) {
      this.opts.log.warn({ topic }, 'rejected message on unexpected topic');
      return;
    }
    if (parsed.channel === 'ack') {
      const ack = decodeMessage(ackSchema, payload);
      if (!ack.ok) return void this.opts.log.warn({ topic, reason: ack.reason }, 'rejected malformed ack');
      this.opts.onAck(ack.value);
    } else if (parsed.channel === 'desired') {
      if (payload.length === 0) return; // a cleared retained message
      this.opts.onDesired(payload);
    } else if (parsed.channel === 'chunk') {
      this.opts.onChunk?.(payload);
    }
  }

  private nextSession(): number {
    return this.opts.boot * CONNECTIONS_PER_BOOT + (this.connections++ % CONNECTIONS_PER_BOOT);
  }

  private deathPayload(): Buffer {
    const death: Presence = { v: 1, type: 'death', deviceId: this.opts.deviceId, session: this.session };
    return encodeMessage(death);
  }

  /** Resolves when the broker acknowledged the QoS 1 publish; rejects if the link drops first. */
  publish(topic: string, payload: Buffer, retain = false): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.publish(topic, payload, { qos: 1, retain }, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    if (this.connected) {
      // A clean shutdown is still a death: publish it ourselves, since the broker won't.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.publish(deviceTopic(this.opts.deviceId, 'presence'), this.deathPayload(), true).catch(() => undefined),
        new Promise((r) => {
          timer = setTimeout(r, 1000);
        }),
      ]);
      // A pending timer would keep the process alive for the rest of the second after shutdown.
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.client.end(false, {}, () => resolve()));
  }
}
