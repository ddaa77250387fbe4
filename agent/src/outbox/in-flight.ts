/**
 * @module outbox/in-flight
 * A lane's batches on the wire: what each covers, when and in which order its copies went out,
 * whether it is thought lost, and how many of them were partial (they carried every item there
 * was, fewer than a batch holds). Pure bookkeeping, no timers and no I/O: the lane (lane.ts)
 * decides what to send and when; this says what is out there.
 *
 * Batches are keyed by their first position and kept in position order (a Map keeps insertion
 * order, and a lane sends in position order, rewinding before it reads anything again).
 */

export interface Flight {
  /** Last position the batch covers. */
  to: number;
  /** Send order (the lane's count of sends) of the first and the last copy: it orders the wire exactly. */
  firstSend: number;
  lastSend: number;
  sentAt: number;
  sends: number;
  /** Thought lost (or the probe): to be sent again. */
  resend: boolean;
  /** Carried every item there was and fewer than a batch holds (OutboxBatch.partial). */
  partial: boolean;
}

export interface Freed {
  /** Batches the ack freed. */
  count: number;
  /** The latest first send among them: the fleet has seen everything sent before it. */
  answeredBefore: number;
  /** The oldest batch on the wire was among them. */
  headFreed: boolean;
  /** The batches freed that had gone out once (their latency is a clean sample, Karn's rule). */
  sentOnce: Flight[];
}

export class InFlightBatches {
  private readonly byFrom = new Map<number, Flight>();
  private partials = 0;

  get size(): number {
    return this.byFrom.size;
  }

  /** Partial batches waiting for their ack. */
  get partialCount(): number {
    return this.partials;
  }

  /** The oldest batch on the wire. */
  get oldest(): Flight | undefined {
    return this.byFrom.values().next().value;
  }

  /** The newest batch on the wire, with its first position. */
  newest(): [number, Flight] | undefined {
    let newest: [number, Flight] | undefined;
    for (const entry of this.byFrom) newest = entry;
    return newest;
  }

  add(from: number, flight: Flight): void {
    const replaced = this.byFrom.get(from);
    if (replaced?.partial) this.partials--;
    this.byFrom.set(from, flight);
    if (flight.partial) this.partials++;
  }

  /**
   * The batches on the wire stop counting as partial: after an ack timeout they may never be
   * answered (a batch the fleet cannot store and does not nack), and a partial one held as such
   * would keep every later record waiting for a full batch.
   */
  releasePartials(): void {
    for (const flight of this.byFrom.values()) flight.partial = false;
    this.partials = 0;
  }

  /** Frees every batch inside [from, to] (an ack may be cumulative). */
  free(from: number, to: number): Freed {
    const head = this.byFrom.keys().next().value;
    const freed: Freed = { count: 0, answeredBefore: 0, headFreed: false, sentOnce: [] };
    for (const [start, flight] of this.byFrom) {
      if (start < from || flight.to > to) continue;
      this.byFrom.delete(start);
      if (flight.partial) this.partials--;
      freed.count++;
      if (flight.sends === 1) freed.sentOnce.push(flight);
      freed.answeredBefore = Math.max(freed.answeredBefore, flight.firstSend);
      if (start === head) freed.headFreed = true;
    }
    return freed;
  }

  /**
   * While recovering from a timeout (batches up to `recoverTo` were on the wire then): what went
   * out before an answered batch and is still unanswered was lost. Returns whether any batch of
   * that time is still unanswered, i.e. whether recovery goes on.
   */
  markLost(recoverTo: number, answeredBefore: number): boolean {
    let recovering = false;
    for (const [from, flight] of this.byFrom) {
      if (from > recoverTo) break;
      recovering = true;
      if (flight.lastSend < answeredBefore) flight.resend = true;
    }
    return recovering;
  }

  /** The first batch to send again, with its first position. */
  firstLost(): [number, Flight] | undefined {
    for (const entry of this.byFrom) if (entry[1].resend) return entry;
    return undefined;
  }

  clear(): void {
    this.byFrom.clear();
    this.partials = 0;
  }
}
