/**
 * @module broker/embedded-transport
 * Device traffic of the embedded broker, handed over in-process: a device's publish, once aedes
 * has authorised it (ACL, retain rule) and routed it, goes straight to the ingest handler of its
 * channel, and the server's answers (acks, desired states, chunks) go out through aedes.publish.
 * No loopback MQTT client sits in between: that client was one socket, one parser and one
 * QoS 1 session through which every device's every message passed in series.
 *
 * The handler runs for every message read; the device is read on per intake-flow.ts (its
 * back-pressure). Messages of the server's own user on device topics are handled too, as the
 * loopback client's subscription received them; wills are, since aedes publishes them as their
 * client's. The server's own publishes (no client) and topics outside the fleet prefix are not.
 */
import type { Aedes, Client } from 'aedes';
import type { Logger } from 'pino';
import { TOPIC_PREFIX, type DeviceChannel } from '@edgeloop/protocol';
import {
  ChannelDispatch,
  type ChannelHandler,
  type DeviceTransport,
  type PublishQos,
} from '../ingest/device-transport.js';
import { IntakeFlow, type IntakeLimits } from './intake-flow.js';
import { PacketSizeGuard } from './packet-size-guard.js';

type PublishedPacket = { topic: string; payload: Buffer | string };

const FLEET_TOPICS = `${TOPIC_PREFIX}/`;

export class EmbeddedTransport implements DeviceTransport {
  private readonly dispatch: ChannelDispatch;
  private readonly flow: IntakeFlow;
  private aedes: Aedes | undefined;
  private closed = false;

  constructor(log: Logger, limits?: IntakeLimits, saturated?: () => boolean) {
    this.dispatch = new ChannelDispatch(log);
    this.flow = new IntakeFlow(limits, saturated);
  }

  /** The broker publishes go through (set once aedes exists: its options need `published`). */
  attach(aedes: Aedes): void {
    this.aedes = aedes;
  }

  /** Messages being handled, and devices not read now (the intake's back-pressure). */
  get intake(): { handling: number; holding: number } {
    return { handling: this.flow.handling, holding: this.flow.holding };
  }

  on(channel: DeviceChannel, handler: ChannelHandler): void {
    this.dispatch.on(channel, handler);
  }

  /** aedes' `published` hook: runs after the message was authorised and routed to subscribers. */
  readonly published = (packet: PublishedPacket, client: Client | null, done: (err?: Error | null) => void): void => {
    if (this.closed || !client || !packet.topic.startsWith(FLEET_TOPICS)) return done(null);
    const route = this.dispatch.route(packet.topic);
    if (!route) return done(null);
    const conn = client.conn instanceof PacketSizeGuard ? client.conn : undefined;
    const finished = this.flow.take(client.id, {
      pause: () => conn?.pauseReading(),
      resume: () => conn?.resumeReading(),
    });
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    void this.dispatch.run(packet.topic, route, payload).finally(finished);
    done(null);
  };

  publish(topic: string, payload: Buffer, retain = false, qos: PublishQos = 1): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.reject(new Error('the embedded broker is not running'));
    return new Promise((resolve, reject) =>
      aedes.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  /**
   * Takes no more messages (the wills aedes publishes as it closes its clients are the server's
   * own shutdown, not deaths) and waits up to `drainMs` for those being handled, so they are
   * stored and acknowledged before the store closes.
   */
  async close(drainMs = 5000): Promise<void> {
    this.closed = true;
    const until = Date.now() + drainMs;
    while (this.flow.handling > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    this.flow.close();
  }
}
