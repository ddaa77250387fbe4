/**
 * @module rollups/rollup-housekeeping
 * Keeps monitoring storage inside its budget: every minute it compacts the rollups (merging each
 * key's deltas, downsampling old windows by DOWNSAMPLE_STEPS); every hour it removes rollups past
 * `rollupRetentionDays` and, where the store does not do it itself, raw telemetry past
 * `telemetryRetentionDays` — in batches of a few thousand rows with a yield between them, so
 * ingest never waits long behind a delete. Runs on one server of a cluster (the leader).
 */
import type { Logger } from 'pino';
import { DAY_MS } from '@edgeloop/protocol';
import type { FleetStore, RollupCompaction } from '../store/fleet-store.js';

export const DEFAULT_ROLLUP_RETENTION_DAYS = 400;
export const DEFAULT_TELEMETRY_RETENTION_DAYS = 30;
const DELETE_BATCH = 5000;
/** At most this many batches per pass; the rest waits for the next pass. */
const MAX_DELETE_BATCHES = 400;

export interface HousekeepingSettings {
  rollupRetentionDays: number;
  /** Raw telemetry's retention; absent where the store enforces its own (PostgreSQL's partitions). */
  telemetryRetentionDays?: number;
  compactEveryMs?: number;
  retentionEveryMs?: number;
}

export interface HousekeepingPass {
  compaction: RollupCompaction;
  rollupsRemoved: number;
  telemetryRemoved: number;
}

const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RollupHousekeeping {
  private compactTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Pick<FleetStore, 'rollups' | 'telemetry'>,
    private readonly settings: HousekeepingSettings,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    if (this.compactTimer) return;
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const timer = setInterval(() => {
        this.running = this.running
          .then(fn)
          .catch((err: unknown) => this.log.error({ err }, 'rollup housekeeping failed'));
      }, ms);
      timer.unref();
      return timer;
    };
    this.compactTimer = every(this.settings.compactEveryMs ?? 60_000, () => this.compact(this.clock()));
    this.retentionTimer = every(this.settings.retentionEveryMs ?? 3_600_000, () => this.retain(this.clock()));
  }

  async stop(): Promise<void> {
    clearInterval(this.compactTimer);
    clearInterval(this.retentionTimer);
    this.compactTimer = this.retentionTimer = undefined;
    await this.running;
  }

  async compact(now: number): Promise<RollupCompaction> {
    const result = await this.store.rollups.compact(now);
    if (result.rowsMerged + result.windowsDownsampled > 0) this.log.debug(result, 'rollups compacted');
    return result;
  }

  /** Removes what is past its retention; returns rollup rows and telemetry records removed. */
  async retain(now: number): Promise<Omit<HousekeepingPass, 'compaction'>> {
    const rollupsRemoved = await this.store.rollups.deleteOlderThan(now - this.settings.rollupRetentionDays * DAY_MS);
    let telemetryRemoved = 0;
    if (this.settings.telemetryRetentionDays !== undefined) {
      const cutoff = now - this.settings.telemetryRetentionDays * DAY_MS;
      for (let i = 0; i < MAX_DELETE_BATCHES; i++) {
        const n = await this.store.telemetry.deleteReceivedBefore(cutoff, DELETE_BATCH);
        telemetryRemoved += n;
        if (n < DELETE_BATCH) break;
        await breathe();
      }
    }
    if (rollupsRemoved + telemetryRemoved > 0)
      this.log.info({ rollupsRemoved, telemetryRemoved }, 'monitoring data past its retention removed');
    return { rollupsRemoved, telemetryRemoved };
  }

  /** One compaction and one retention pass (tests, and an operator's on-demand run). */
  async runOnce(now = this.clock()): Promise<HousekeepingPass> {
    const compaction = await this.compact(now);
    return { compaction, ...(await this.retain(now)) };
  }
}
