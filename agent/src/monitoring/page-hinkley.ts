/**
 * @module monitoring/page-hinkley
 * The Page-Hinkley test for an increase in the mean of a stream (here: each record's distance
 * from the training baseline), with an optionally fading cumulative sum and a cooldown after each alarm.
 *
 *   mean_t = running mean of x;  m_t = alpha · m_{t−1} + (x_t − mean_t − delta);  M_t = min m
 *   alarm when t ≥ minInstances and m_t − M_t > lambda
 *
 * After an alarm the test starts over (the new level becomes its reference), so it fires once
 * per change. While alarmed, `firing` stays true until the distance's moving average is back
 * within `resolveMargin` of the level it had before the change, and the cooldown has passed.
 * Defaults and why: protocol monitoring/device-monitoring.ts (PAGE_HINKLEY_DEFAULTS).
 */
import type { PageHinkleySettings } from '@edgeloop/protocol';

export type PageHinkleyEvent = 'alarm' | 'resolved';

/** EWMA weight of the moving average that decides resolution (~ the last 50 values). */
const LEVEL_WEIGHT = 0.02;
/** EWMA weight of the long-run level while nothing fires (~ the last 500 values): "normal". */
const NORMAL_WEIGHT = 0.002;

export class PageHinkley {
  private n = 0;
  private mean = 0;
  private cumulative = 0;
  private minimum = 0;
  private level: number | undefined;
  private normal: number | undefined;
  private alarmedAt: number | undefined;
  /** The statistic m_t − M_t (for /v1/health and tests). */
  statistic = 0;
  firing = false;

  constructor(private readonly s: Omit<PageHinkleySettings, 'enabled'>) {}

  /** Feeds one value at device time `ts`; says when the test alarms or a firing alarm resolves. */
  add(x: number, ts: number): PageHinkleyEvent | undefined {
    if (!Number.isFinite(x)) return undefined;
    this.level = this.level === undefined ? x : this.level + LEVEL_WEIGHT * (x - this.level);
    if (!this.firing) this.normal = this.normal === undefined ? x : this.normal + NORMAL_WEIGHT * (x - this.normal);
    this.n++;
    this.mean += (x - this.mean) / this.n;
    this.cumulative = this.s.alpha * this.cumulative + (x - this.mean - this.s.delta);
    if (this.cumulative < this.minimum) this.minimum = this.cumulative;
    this.statistic = this.cumulative - this.minimum;
    const cooling = this.alarmedAt !== undefined && ts - this.alarmedAt < this.s.cooldownMs;
    if (this.firing && !cooling && this.level <= this.normal! + this.s.resolveMargin) {
      this.firing = false;
      return 'resolved';
    }
    if (this.n >= this.s.minInstances && this.statistic > this.s.lambda && !cooling) {
      // A further rise while already firing is the same episode: the test restarts quietly.
      const fresh = !this.firing;
      this.firing = true;
      this.alarmedAt = ts;
      this.restart();
      return fresh ? 'alarm' : undefined;
    }
    return undefined;
  }

  /** The distance's recent moving average (what alerts report as the value). */
  get recentLevel(): number | undefined {
    return this.level;
  }

  /** The level a firing alarm resolves back to: the long-run average before it fired. */
  get normalLevel(): number | undefined {
    return this.normal;
  }

  private restart(): void {
    this.n = 0;
    this.mean = 0;
    this.cumulative = 0;
    this.minimum = 0;
    this.statistic = 0;
  }
}
