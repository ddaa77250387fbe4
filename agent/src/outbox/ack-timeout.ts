/**
 * @module outbox/ack-timeout
 * How long a lane waits for an ack before it suspects a batch was lost: learnt from the acks it
 * gets, the way TCP learns its retransmission timeout (RFC 6298). A smoothed ack latency and its
 * variation give `srtt + 4·rttvar`, never below the configured floor (`sync.ackTimeoutMs`) and
 * never above the cap. A fleet server that falls behind answers later and later; the timeout
 * follows it instead of declaring every batch lost and re-sending into the server's backlog.
 *
 * Only batches sent once are measured (Karn's rule): the ack of a batch sent twice may answer
 * either copy, and measuring from the wrong one would shrink the timeout exactly when the server
 * is slow. Each expiry doubles the timeout (up to the cap) until a batch sent once is acked.
 */

export interface AckTimeoutOptions {
  /** The timeout never drops below this; also the timeout before the first ack was measured. */
  minMs: number;
  /** The timeout never grows beyond this, backed off or not. */
  maxMs: number;
}

export class AckTimeout {
  private srtt: number | undefined;
  private rttvar = 0;
  private backoff = 1;

  constructor(private readonly opts: AckTimeoutOptions) {}

  /** The wait for an ack now, in ms. */
  get currentMs(): number {
    const learnt = this.srtt === undefined ? 0 : this.srtt + 4 * this.rttvar;
    return Math.round(Math.min(this.opts.maxMs, Math.max(this.opts.minMs, learnt) * this.backoff));
  }

  /** The smoothed ack latency, once one was measured. */
  get smoothedMs(): number | undefined {
    return this.srtt === undefined ? undefined : Math.round(this.srtt);
  }

  /** A batch sent once was acked `ms` after it went out. */
  sample(ms: number): void {
    const r = Math.max(0, ms);
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.backoff = 1;
  }

  /** The timeout ran out: wait twice as long next time (up to the cap). */
  expired(): void {
    if (this.currentMs < this.opts.maxMs) this.backoff *= 2;
  }

  /** A new connection: what was learnt about the server stays, the back-off from the old one goes. */
  resetBackoff(): void {
    this.backoff = 1;
  }
}
