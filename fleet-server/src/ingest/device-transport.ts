/**
 * @module ingest/device-transport
 * How device traffic reaches the ingest handlers and how the server answers, whatever carries
 * it: the embedded broker hands device publishes over in-process (broker/embedded-transport.ts),
 * an external broker through the server's MQTT client (ingest/fleet-bus.ts). server.ts wires the
 * handlers to either without knowing which.
 *
 * Both share the dispatch below: a message on an unknown topic or one a handler throws on is
 * logged with its reason and dropped; one bad device cannot stop the others.
 */
import type { Logger } from 'pino';
import { parseDeviceTopic, type DeviceChannel } from '@edgeloop/protocol';

export type PublishQos = 0 | 1;

/** Resolves once the message is handled (stored and acknowledged where the channel has acks). */
export type ChannelHandler = (deviceId: string, payload: Buffer) => void | Promise<void>;

export interface DeviceTransport {
  /** The handler for one inbound channel (the last one set wins). */
  on(channel: DeviceChannel, handler: ChannelHandler): void;
  /**
   * `retain` where the broker should keep the message for later subscribers. QoS 1 unless told
   * otherwise: QoS 0 suits a message the device asks for again when it is lost, since devices
   * use clean sessions and a QoS 1 message lost with its connection is not redelivered anyway.
   */
  publish(topic: string, payload: Buffer, retain?: boolean, qos?: PublishQos): Promise<void>;
  close(): Promise<void>;
  /**
   * Takes the presence messages a broker retained while no server listened (external brokers
   * with shared subscriptions; elsewhere they arrive on subscribe, or the broker starts empty).
   */
  replayRetainedPresence?(): Promise<void>;
}

export interface Route {
  deviceId: string;
  handler: ChannelHandler;
}

export class ChannelDispatch {
  private readonly handlers = new Map<DeviceChannel, ChannelHandler>();
  /** Messages dropped: unknown topic, or the handler failed. */
  rejected = 0;

  constructor(private readonly log: Logger) {}

  on(channel: DeviceChannel, handler: ChannelHandler): void {
    this.handlers.set(channel, handler);
  }

  /**
   * The handler a message on `topic` goes to; undefined for our own outbound channels (ack,
   * desired, chunk) and for an unknown topic (logged and counted).
   */
  route(topic: string): Route | undefined {
    const parsed = parseDeviceTopic(topic);
    if (!parsed.ok) {
      this.rejected++;
      this.log.warn({ topic, reason: parsed.reason }, 'rejected message on unknown topic');
      return undefined;
    }
    const handler = this.handlers.get(parsed.channel);
    return handler ? { deviceId: parsed.deviceId, handler } : undefined;
  }

  /** Never rejects. */
  async dispatch(topic: string, payload: Buffer): Promise<void> {
    const route = this.route(topic);
    if (route) await this.run(topic, route, payload);
  }

  /** Never rejects: a failure is counted and logged. */
  async run(topic: string, route: Route, payload: Buffer): Promise<void> {
    try {
      await route.handler(route.deviceId, payload);
    } catch (err) {
      this.rejected++;
      this.log.error({ topic, err: (err as Error).message }, 'handler failed; message dropped');
    }
  }
}
