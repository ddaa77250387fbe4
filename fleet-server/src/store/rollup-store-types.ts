/**
 * @module store/rollup-store-types
 * The store's side of monitoring rollups: the `rollups` repository. A rollup is stored under its
 * key (model, version, role, scope, window) as append-only deltas: every ingest adds its own row,
 * so parallel writers never wait on the fleet key's row, and reads merge the rows of a key.
 * `compact` later merges each key's deltas into one row and, with age, merges short windows into
 * the longer ones of DOWNSAMPLE_STEPS (merges are exact: only the time resolution is lost).
 *
 * Rollups of one model version share its BinSpec, so a query is always about one version (and
 * one role): merging across versions would add histograms counted on different edges.
 */
import type { Rollup, RollupRole, ScopeKey } from '@edgeloop/protocol';

/** Where a rollup belongs: a window [windowStart, windowStart + windowMs) of device time. */
export interface RollupKey {
  model: string;
  version: number;
  role: RollupRole;
  scope: ScopeKey;
  windowStart: number;
  windowMs: number;
}

/** Records folded into one key by one write; added to what the key already holds. */
export interface RollupDelta extends RollupKey {
  rollup: Rollup;
}

/**
 * Which rollups a read covers: one version and role, some scopes, and the windows overlapping
 * [from, to) — a window counts whole when any part of it overlaps, so a range that does not fall
 * on window boundaries reads up to one window more at each end.
 */
export interface RollupQuery {
  model: string;
  version: number;
  role: RollupRole;
  /** Exactly these scopes (an empty list selects nothing). */
  scopes?: readonly ScopeKey[];
  /** Every scope starting with this, e.g. `device:` for all devices or `group:` for all groups. */
  scopePrefix?: 'device:' | 'group:' | 'fleet';
  /** Window overlap bounds (ms, device time); absent: unbounded. */
  from?: number;
  to?: number;
}

/** One stored window of one scope, its deltas merged. */
export interface RollupWindow {
  scope: ScopeKey;
  windowStart: number;
  windowMs: number;
  rollup: Rollup;
}

export interface RollupCompaction {
  /** Delta rows merged away (rows before minus rows after). */
  rowsMerged: number;
  /** Windows merged into longer ones by DOWNSAMPLE_STEPS. */
  windowsDownsampled: number;
}

export interface RollupRepository {
  /** Stores the deltas (atomically; inside a unit of work, as part of it). */
  add(deltas: readonly RollupDelta[]): Promise<void>;
  /** The windows the query covers, one per (scope, windowStart, windowMs), ordered by scope then windowStart. */
  windows(q: RollupQuery): Promise<RollupWindow[]>;
  /** Everything the query covers merged into one rollup (empty when nothing matches). */
  sum(q: RollupQuery): Promise<Rollup>;
  /** The query's rollups merged per scope, e.g. every device of a version (scopePrefix `device:`). */
  sumPerScope(q: RollupQuery): Promise<Map<ScopeKey, Rollup>>;
  /**
   * Merges each key's deltas into one row, and windows older than DOWNSAMPLE_STEPS' ages (from
   * `now`, by window end) into their longer windows. Done in bounded batches; safe to run on
   * several servers at once (a key is rewritten in one transaction).
   */
  compact(now: number): Promise<RollupCompaction>;
  /** Removes windows that ended before `ts`; returns rows removed. */
  deleteOlderThan(ts: number): Promise<number>;
  /** Bytes the stored rollups take (their encoded bodies plus the key columns), for budgets and benches. */
  bytes(): Promise<number>;
}
