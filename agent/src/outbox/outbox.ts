/**
 * @module outbox/outbox
 * The agent's one durable outbox: everything it sends the fleet and keeps until the fleet acks it
 * — telemetry records, late reference values, kept samples, update reports — goes through here.
 * Each kind is a stream (stream.ts) over its own SQLite table, sent on its own lane (lane.ts)
 * with its own window, timers and backoff, so a stuck stream never holds up another. Acks are
 * routed by their `kind` (absent = telemetry, as older servers send it) after their `stream` id
 * is checked against this device's.
 *
 * Nothing is held in memory that is not also on disk: what was acked is deleted, what was not is
 * read again from SQLite after a reconnect, an ack timeout, or a restart (even after kill -9).
 * MQTT.js only ever holds the batches in flight.
 */
import type { Logger } from 'pino';
import type { Ack, AckKind } from '@edgeloop/protocol';
import { OutboxLane, type LaneOptions, type LaneStats } from './lane.js';
import type { OutboxStream } from './stream.js';

export type { OutboxBatch, OutboxStream, SendContext } from './stream.js';
export type { LaneOptions } from './lane.js';

export interface OutboxStreamStats extends LaneStats {
  kind: AckKind;
  /** Items stored and not yet acknowledged. */
  pending: number;
  /** Batches on the wire. */
  inFlight: number;
  /** Partial batches on the wire (they carried every item there was). */
  partialInFlight: number;
  /** The lane's window now (smaller than configured after ack timeouts, until acks grow it back). */
  window: number;
  /** The lane's ack timeout now, learnt from ack latency. */
  ackTimeoutMs: number;
}

export interface OutboxDeps {
  /** This device's stream id: acks naming another are not for this outbox. */
  stream: string;
  /** Publishes (QoS 1) on the device channel named like the kind; rejects if the link drops first. */
  publish: (kind: AckKind, payload: Buffer) => Promise<void>;
  log: Logger;
  /** Source of the backoff jitter; tests pin it. */
  random?: () => number;
}

export class Outbox {
  private readonly lanes = new Map<AckKind, OutboxLane>();
  private connected = false;
  private connectedSince = 0;

  constructor(private readonly deps: OutboxDeps) {}

  /** Adds a stream; it starts sending at once if the link is up. */
  add(stream: OutboxStream, opts: LaneOptions): OutboxLane {
    if (this.lanes.has(stream.kind)) throw new Error(`the outbox already has a ${stream.kind} stream`);
    const lane = new OutboxLane(
      stream,
      (payload) => this.deps.publish(stream.kind, payload),
      opts,
      this.deps.log,
      this.deps.random,
    );
    this.lanes.set(stream.kind, lane);
    if (this.connected) lane.setConnected(true, this.connectedSince);
    return lane;
  }

  setConnected(connected: boolean): void {
    this.connected = connected;
    if (connected) this.connectedSince = Date.now();
    for (const lane of this.lanes.values()) lane.setConnected(connected, this.connectedSince);
  }

  /** New items were stored in the stream of this kind. */
  wake(kind: AckKind): void {
    this.lanes.get(kind)?.wake();
  }

  handleAck(ack: Ack): void {
    const kind = ack.kind ?? 'telemetry';
    if (ack.stream !== this.deps.stream) {
      this.deps.log.warn({ kind, stream: ack.stream }, 'ignored an ack for another stream');
      return;
    }
    const lane = this.lanes.get(kind);
    if (!lane) {
      this.deps.log.warn({ kind }, 'ignored an ack for a kind of data this agent does not send');
      return;
    }
    lane.handleAck(ack);
  }

  stats(): OutboxStreamStats[] {
    return [...this.lanes.values()].map((lane) => ({
      kind: lane.kind,
      pending: lane.stream.pending(),
      inFlight: lane.inFlightCount,
      partialInFlight: lane.partialInFlightCount,
      window: lane.window,
      ackTimeoutMs: lane.ackTimeoutMs,
      ...lane.stats,
    }));
  }

  close(): void {
    this.connected = false;
    for (const lane of this.lanes.values()) lane.close();
  }
}
