/**
 * @module ingest/fleet-bus
 * The server's own MQTT client: subscribes to every device's presence, telemetry and update
 * channels and hands validated messages to the ingest handlers. Anything unknown or malformed
 * is logged with its reason and dropped; one bad device cannot stop the others.
 *
 * On an external broker several fleet servers may share the work: each device→server channel is
 * then a shared subscription (`$share/<group>/edgeloop/v1/devices/+/<channel>`), so the broker
 * hands each message to one server of the group. A device's last birth or death is retained on
 * its presence topic, and brokers differ on shared subscriptions and retained messages (MQTT 5
 * says none are sent; Mosquitto 2.0 sends them to every member on subscribe). So with shared
 * subscriptions a retained message is taken only during `replayRetainedPresence`, which
 * subscribes to presence plainly for a moment: the server in charge (the leader) learns who
 * came and went while no server was listening, and the others do not repeat it.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import {
  DEVICE_PUBLISHES,
  TOPIC_PREFIX,
  allDevicesTopic,
  parseDeviceTopic,
  type DeviceChannel,
} from '@edgeloop/protocol';
import type { ChannelHandler, DeviceTransport, PublishQos } from './device-transport.js';

export type { ChannelHandler } from './device-transport.js';

/** A shared-subscription group name: one topic level, no wildcards (MQTT 5 §4.8.2). */
export const SHARE_GROUP = /^[A-Za-z0-9_-]{1,64}$/;

export interface FleetBusOptions {
  /** Subscribe to device→server channels as this shared-subscription group (external brokers). */
  shareGroup?: string;
}

/** The subscriptions a bus makes: every topic, or one shared filter per device→server channel. */
export function busSubscriptions(shareGroup: string | undefined): string[] {
  if (shareGroup === undefined) return [`${TOPIC_PREFIX}/#`];
  if (!SHARE_GROUP.test(shareGroup))
    throw new Error(
      `shared-subscription group "${shareGroup}" must be 1-64 letters, digits, "-" or "_" (it becomes a topic level)`,
    );
  return DEVICE_PUBLISHES.map((c) => `$share/${shareGroup}/${allDevicesTopic(c)}`);
}

/** The transport for an external broker; the embedded one hands device traffic over in-process. */
export class FleetBus implements DeviceTransport {
  private readonly client: MqttClient;
  private readonly handlers = new Map<DeviceChannel, ChannelHandler>();
  private readonly markers = new Map<string, () => void>();
  rejected = 0;

  private constructor(
    client: MqttClient,
    private readonly log: Logger,
    private readonly shared: boolean,
  ) {
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      const marker = this.markers.get(topic);
      if (marker) marker();
      else if (this.shared && packet.retain && this.markers.size === 0)
        return; // see the module note
      else void this.dispatch(topic, payload);
    });
  }

  /**
   * Shared subscriptions only: takes the retained births and deaths once (see the module note).
   * The broker queues what it replays on subscribe before anything published afterwards on the
   * same connection, so a marker message published after the SUBACK arrives after the last
   * retained one. While the plain subscription lasts, a live presence message can arrive twice;
   * presence handling is idempotent per session, so that only costs a repeated desired state.
   */
  async replayRetainedPresence(timeoutMs = 10_000): Promise<void> {
    if (!this.shared) return; // the plain subscription to everything got them on connect
    const filter = allDevicesTopic('presence');
    const marker = `${TOPIC_PREFIX}/fleet/replay-${randomBytes(8).toString('hex')}`;
    const reached = new Promise<void>((resolve) => this.markers.set(marker, resolve));
    let timer: NodeJS.Timeout | undefined;
    // Bounded as a whole: while the broker is away a subscribe waits for the reconnect, and the
    // leader's other duties wait for this one.
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const replay = (async () => {
      await this.client.subscribeAsync([filter, marker], { qos: 1 });
      await this.client.publishAsync(marker, Buffer.alloc(0), { qos: 1 });
      await reached;
    })();
    let finished = false;
    try {
      finished = (await Promise.race([replay, gaveUp])) !== 'timeout';
      if (!finished) this.log.warn({ timeoutMs }, 'retained presence replay did not finish; going on without it');
    } finally {
      clearTimeout(timer);
      this.markers.delete(marker);
      replay.catch(() => undefined);
      const unsubscribed = this.client.unsubscribeAsync([filter, marker]).catch(() => undefined);
      // Once done, live births come only through the group again when this returns.
      if (finished) await unsubscribed;
    }
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
    options: FleetBusOptions = {},
  ): Promise<FleetBus> {
    const subscriptions = busSubscriptions(options.shareGroup);
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
    const bus = new FleetBus(client, log, options.shareGroup !== undefined);
    const granted = await client.subscribeAsync(subscriptions, { qos: 1 });
    // 0x80: the broker refused the filter (e.g. a broker without shared subscriptions, or an ACL).
    const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length > 0) {
      await client.endAsync(true);
      throw new Error(
        `the MQTT broker at ${url} refused the subscription to ${refused.join(', ')}${options.shareGroup === undefined ? '' : ': a broker without shared subscriptions ($share, e.g. Mosquitto before 2.0) cannot host several fleet servers; turn them off with mqtt.sharedSubscriptions false'}`,
      );
    }
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

  /**
   * QoS 0 goes to the broker at QoS 0 too: lost only if the bus's connection drops with it in
   * flight (a publish made while the bus is reconnecting waits in MQTT.js' offline queue), and
   * then the device asks again (an ack: it re-sends the batch after its ack timeout).
   */
  publish(topic: string, payload: Buffer, retain = false, qos: PublishQos = 1): Promise<void> {
    return this.client.publishAsync(topic, payload, { qos, retain }).then(() => undefined);
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
