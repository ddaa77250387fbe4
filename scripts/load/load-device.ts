/**
 * @module load/load-device
 * One simulated device, behaving on the wire as an agent's telemetry lane does
 * (agent/src/outbox/lane.ts): a real MQTT connection with its enrolled credentials and a death
 * will, birth on every connect, then compact batches of every record made since, at most `window`
 * unacknowledged. A batch that is not full (fewer than batchSize records) goes only while fewer
 * than `partialInFlight` such batches wait for their ack, and at most one per flush interval: a
 * slow server gets a batch per ack, holding everything made meanwhile. When the oldest gets no
 * ack within the ack timeout, the in-flight batches are forgotten and, after an exponential
 * pause with equal jitter, everything unacknowledged is sent again (the agent probes first and
 * re-sends only what was lost); a reconnect sends it again at once. Records made while offline go
 * out flagged `historical`. What it made stays in memory until acknowledged (a real agent keeps
 * it in SQLite), so the device always knows what the store must hold.
 */
import { createConnection } from 'node:net';
import { arch } from 'node:os';
import { MqttClient } from 'mqtt';
import { deviceTopic, encodeMessage, encodeTelemetryBatch, type Birth, type TelemetryRecord } from '@edgeloop/protocol';
import type { Histogram } from './histogram.js';
import type { DeviceBehaviour } from './options.js';
import type { RecordGenerator } from './record-generator.js';

/** What all devices of a worker share: counters, histograms and a cap on concurrent CONNECTs. */
export interface DeviceContext {
  behaviour: DeviceBehaviour;
  mqtt: { host: string; port: number };
  counters: {
    made: number;
    acked: number;
    rejected: number;
    sent: number;
    resent: number;
    batches: number;
    ackTimeouts: number;
    connects: number;
    connectFailures: number;
    disconnects: number;
  };
  ackMs: Histogram;
  lagMs: Histogram;
  connectMs: Histogram;
  acquireConnectSlot(): Promise<() => void>;
}

interface InFlight {
  seqFrom: number;
  seqTo: number;
  sentAt: number;
  /** Held every pending record and fewer than batchSize (the agent's partial batch). */
  partial?: boolean;
}

/** Equal jitter: half the doubled pause fixed, half random (agent/src/outbox/backoff.ts). */
function backoff(attempt: number, minMs: number, maxMs: number): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return cap / 2 + Math.random() * (cap / 2);
}

export class LoadDevice {
  online = false;
  made = 0;
  private readonly pending: TelemetryRecord[] = [];
  private inFlight: InFlight[] = [];
  /**
   * Every batch sent and not yet acknowledged, with the time it was first sent: ack latency is
   * measured from there, so a batch that needed an ack timeout and a re-send counts with its
   * whole wait instead of dropping out of the figure.
   */
  private unacked: InFlight[] = [];
  /** Highest seq sent since the last (re)start of sending, and ever. */
  private sentUpTo = 0;
  private everSentUpTo = 0;
  private client: MqttClient | undefined;
  private session = 0;
  private connectedAt = 0;
  /** Set once, when the device first comes online: records are made from then on, on its schedule. */
  private makingFrom: number | null = null;
  private makingUntil = Infinity;
  private pausedUntil = 0;
  /** When the last partial batch went out: the next goes a flush interval later at the earliest. */
  private lastPartialAt = 0;
  private timeoutsInRow = 0;
  private reconnectAttempt = 0;
  private stopped = false;
  private readonly stream: string;

  constructor(
    readonly id: string,
    private readonly password: string,
    private readonly index: number,
    private readonly generator: RecordGenerator,
    private readonly ctx: DeviceContext,
  ) {
    this.stream = `load-${id}`.slice(0, 64);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  get oldestPendingTs(): number | null {
    return this.pending[0]?.ts ?? null;
  }

  /** Every device on its own 127/8 source address, as real devices have their own: the broker's per-address connect limit then sees what it would in the field. */
  private localAddress(): string | undefined {
    const h = this.ctx.mqtt.host;
    if (h !== '127.0.0.1' && h !== 'localhost') return undefined;
    const i = this.index + 1;
    return `127.${1 + ((i >> 16) & 0x7f)}.${(i >> 8) & 255}.${i & 255}`;
  }

  async connect(): Promise<void> {
    if (this.stopped) return;
    const release = await this.ctx.acquireConnectSlot();
    const t0 = performance.now();
    const { host, port } = this.ctx.mqtt;
    const localAddress = this.localAddress();
    this.session++;
    const death = encodeMessage({ v: 1, type: 'death', deviceId: this.id, session: this.session });
    const client = new MqttClient(() => createConnection({ host, port, ...(localAddress ? { localAddress } : {}) }), {
      clientId: this.id,
      username: this.id,
      password: this.password,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
      keepalive: 60,
      protocolVersion: 4,
      will: { topic: deviceTopic(this.id, 'presence'), payload: Buffer.from(death), qos: 1, retain: true },
    });
    this.client = client;
    let released = false;
    const done = () => {
      if (!released) release();
      released = true;
    };
    client.on('error', () => undefined);
    client.on('message', (_topic, payload) => this.onAck(payload));
    client.once('close', () => {
      done();
      this.onDown(client);
    });
    client.once('connect', () => {
      void (async () => {
        try {
          await client.subscribeAsync([deviceTopic(this.id, 'ack'), deviceTopic(this.id, 'desired')], { qos: 1 });
          await client.publishAsync(deviceTopic(this.id, 'presence'), encodeMessage(this.birth()), {
            qos: 1,
            retain: true,
          });
        } catch {
          return; // the close handler takes over
        }
        done();
        if (this.client !== client || !client.connected) return;
        this.ctx.connectMs.add(performance.now() - t0);
        this.ctx.counters.connects++;
        this.online = true;
        this.reconnectAttempt = 0;
        this.connectedAt = Date.now();
        this.makingFrom ??= this.connectedAt + Math.random() * (1000 / this.ctx.behaviour.rate);
        this.restartSending();
        this.pump(Date.now());
      })();
    });
  }

  private onDown(client: MqttClient): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('message');
    if (this.online) this.ctx.counters.disconnects++;
    else this.ctx.counters.connectFailures++;
    this.online = false;
    this.inFlight = [];
    if (this.stopped) return;
    const { reconnectMinMs, reconnectMaxMs } = this.ctx.behaviour;
    setTimeout(() => void this.connect(), backoff(this.reconnectAttempt++, reconnectMinMs, reconnectMaxMs));
  }

  private birth(): Birth {
    return {
      v: 1,
      type: 'birth',
      deviceId: this.id,
      session: this.session,
      ts: Date.now(),
      agentVersion: 'load-harness',
      arch: arch(),
      platform: 'linux',
      cpus: 1,
      memTotalMb: 512,
      runtime: { name: 'none', version: '0' },
      models: [],
      stream: this.stream,
      backlog: this.pending.length,
    };
  }

  stopMaking(now: number): void {
    this.makingUntil = Math.min(this.makingUntil, now);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const c = this.client;
    this.client = undefined;
    this.online = false;
    await c?.endAsync(true).catch(() => undefined);
  }

  /** Called by the worker's scheduler once per flush interval. */
  tick(now: number): void {
    this.make(now);
    if (!this.online) return;
    const oldest = this.inFlight[0];
    if (oldest && now - oldest.sentAt > this.ctx.behaviour.ackTimeoutMs) {
      this.ctx.counters.ackTimeouts++;
      const { backoffMinMs, backoffMaxMs } = this.ctx.behaviour;
      this.pausedUntil = now + backoff(this.timeoutsInRow++, backoffMinMs, backoffMaxMs);
      this.restartSending();
      return;
    }
    this.pump(now);
  }

  /** Records due by `now` on the device's schedule, each stamped with the time it was due. */
  private make(now: number): void {
    if (this.makingFrom === null) return;
    const until = Math.min(now, this.makingUntil);
    const period = 1000 / this.ctx.behaviour.rate;
    const due = Math.floor((until - this.makingFrom) / period) + 1;
    while (this.made < due) {
      const ts = Math.round(this.makingFrom + this.made * period);
      this.made++;
      this.pending.push(this.generator.next(this.made, ts));
      this.ctx.counters.made++;
    }
  }

  /** Forget what is in flight; the next pump sends from the first unacknowledged record. */
  private restartSending(): void {
    this.inFlight = [];
    this.lastPartialAt = 0;
    this.sentUpTo = (this.pending[0]?.seq ?? this.made + 1) - 1;
  }

  /** `afterAck`: between ticks, so a partial batch also waits out the flush interval (ticks are that far apart). */
  private pump(now: number, afterAck = false): void {
    const client = this.client;
    if (!client || !this.online || now < this.pausedUntil) return;
    const { window, batchSize, partialInFlight, flushMs } = this.ctx.behaviour;
    while (this.inFlight.length < window) {
      const start = this.firstIndexAbove(this.sentUpTo);
      if (start >= this.pending.length) return;
      const historical = this.pending[start]!.ts < this.connectedAt;
      let end = start;
      while (
        end < this.pending.length &&
        end - start < batchSize &&
        this.pending[end]!.ts < this.connectedAt === historical
      )
        end++;
      // The tail, not full: self-clocked, as the agent's lane (lane.ts) does it.
      const partial = end === this.pending.length && end - start < batchSize;
      if (
        partial &&
        (this.inFlight.filter((b) => b.partial).length >= partialInFlight ||
          (afterAck && now < this.lastPartialAt + flushMs))
      )
        return;
      if (partial) this.lastPartialAt = now;
      const records = this.pending.slice(start, end);
      const payload = encodeTelemetryBatch({
        v: 1,
        stream: this.stream,
        records,
        backlog: this.pending.length - end,
        ...(historical ? { historical: true } : {}),
      });
      const seqFrom = records[0]!.seq;
      const seqTo = records[records.length - 1]!.seq;
      this.inFlight.push({ seqFrom, seqTo, sentAt: now, partial });
      if (!this.unacked.some((b) => b.seqFrom === seqFrom && b.seqTo === seqTo))
        this.unacked.push({ seqFrom, seqTo, sentAt: now });
      this.sentUpTo = seqTo;
      const c = this.ctx.counters;
      c.batches++;
      c.sent += records.length;
      if (seqFrom <= this.everSentUpTo) c.resent += Math.min(seqTo, this.everSentUpTo) - seqFrom + 1;
      this.everSentUpTo = Math.max(this.everSentUpTo, seqTo);
      client.publish(deviceTopic(this.id, 'telemetry'), payload, { qos: 1 }, () => undefined);
    }
  }

  private firstIndexAbove(seq: number): number {
    let lo = 0;
    let hi = this.pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.pending[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private onAck(payload: Buffer): void {
    let ack: { stream?: unknown; seqFrom?: unknown; seqTo?: unknown; status?: unknown; kind?: unknown };
    try {
      ack = JSON.parse(payload.toString()) as typeof ack;
    } catch {
      return;
    }
    if (ack.stream !== this.stream || (ack.kind !== undefined && ack.kind !== 'telemetry')) return;
    if (typeof ack.seqFrom !== 'number' || typeof ack.seqTo !== 'number') return;
    const now = Date.now();
    const from = this.firstIndexAbove(ack.seqFrom - 1);
    const to = this.firstIndexAbove(ack.seqTo);
    const stored = ack.status === 'stored';
    for (let i = from; i < to; i++) if (stored) this.ctx.lagMs.add(now - this.pending[i]!.ts);
    if (stored) this.ctx.counters.acked += to - from;
    else this.ctx.counters.rejected += to - from;
    this.pending.splice(from, to - from);
    const covered = (b: InFlight) => b.seqFrom >= (ack.seqFrom as number) && b.seqTo <= (ack.seqTo as number);
    for (const b of this.unacked) if (covered(b)) this.ctx.ackMs.add(now - b.sentAt);
    this.unacked = this.unacked.filter((b) => !covered(b));
    this.inFlight = this.inFlight.filter((b) => !covered(b));
    this.timeoutsInRow = 0;
    this.pausedUntil = 0;
    this.pump(now, true);
  }
}
