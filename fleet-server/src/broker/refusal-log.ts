/**
 * @module broker/refusal-log
 * Counts every broker refusal by reason (exported on /metrics) and logs them without letting a
 * flood write a line each: the first few of every interval are logged with their details, the
 * rest only as one summary line when the interval ends ("N refusals in the last 60 s …").
 */
import type { Logger } from 'pino';

export const REFUSAL_REASONS = [
  'connect_rate',
  'pending_limit',
  'auth',
  'connect_timeout',
  'pre_auth_packet_too_large',
  'packet_too_large',
  'malformed',
  'retained',
  'acl_publish',
  'acl_subscribe',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface RefusalLogOptions {
  /** Refusals logged one by one per interval. */
  detailed?: number;
  intervalMs?: number;
}

export class RefusalLog {
  readonly totals: Record<RefusalReason, number> = Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<
    RefusalReason,
    number
  >;
  private readonly detailed: number;
  private readonly intervalMs: number;
  private loggedThisInterval = 0;
  private suppressed: Partial<Record<RefusalReason, number>> = {};
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    opts: RefusalLogOptions = {},
  ) {
    this.detailed = opts.detailed ?? 5;
    this.intervalMs = opts.intervalMs ?? 60_000;
  }

  refuse(reason: RefusalReason, fields: Record<string, unknown>, message: string): void {
    this.totals[reason]++;
    // The interval starts with the first refusal after a quiet one, so a quiet broker runs no timer.
    if (!this.timer) {
      this.timer = setTimeout(() => this.endInterval(), this.intervalMs);
      this.timer.unref();
    }
    if (this.loggedThisInterval < this.detailed) {
      this.loggedThisInterval++;
      this.log.warn({ ...fields, reason }, message);
      return;
    }
    this.suppressed[reason] = (this.suppressed[reason] ?? 0) + 1;
  }

  /** Writes the summary of what was not logged, if anything, and stops the timer. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.endInterval();
  }

  private endInterval(): void {
    this.timer = undefined;
    this.loggedThisInterval = 0;
    const suppressed = this.suppressed;
    this.suppressed = {};
    const count = Object.values(suppressed).reduce((a, b) => a + b, 0);
    if (count === 0) return;
    const seconds = Math.round(this.intervalMs / 1000);
    this.log.warn(
      { refused: suppressed, intervalSeconds: seconds },
      `${count} more mqtt refusals in the last ${seconds} s, not logged one by one (${Object.entries(suppressed)
        .map(([r, n]) => `${r}: ${n}`)
        .join(', ')}); totals are on /metrics`,
    );
  }
}
