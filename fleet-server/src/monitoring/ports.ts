/**
 * @module monitoring/ports
 * What the rule engine reads, as narrow interfaces: rollups (the store's `rollups` repository
 * satisfies RollupReader as it is), the metric catalogue, the versions to watch and the rollout
 * arms. Keeping them narrow lets the engine's tests run on rollups folded in memory.
 */
import type { BinSpec, Rollup, RollupRole, ScopeKey, TrainingSummary } from '@edgeloop/protocol';

/** One version and role, some scopes, windows overlapping [from, to) (store/rollup-store-types.ts). */
export interface RollupRead {
  model: string;
  version: number;
  role: RollupRole;
  scopes?: readonly ScopeKey[];
  scopePrefix?: 'device:' | 'group:' | 'fleet';
  from?: number;
  to?: number;
}

export interface RollupReader {
  sum(q: RollupRead): Promise<Rollup>;
  sumPerScope(q: RollupRead): Promise<Map<ScopeKey, Rollup>>;
  /** Per stored window (for per-minute aggregations). */
  windows(q: RollupRead): Promise<Array<{ scope: ScopeKey; windowStart: number; windowMs: number; rollup: Rollup }>>;
}

/** What a metric is compared against: a reference rollup and the version's validation error. */
export interface MetricReference {
  rollup?: Rollup;
  /** The version's validation MAE from its training metrics (`validation_mae`). */
  validationMae?: number;
}

export interface MetricValue {
  value: number | null;
  samples: number;
}

/** The metric catalogue (monitoring/metric-catalogue.ts in protocol) as the engine uses it. */
export interface MetricPort {
  compute(name: string, live: Rollup, spec: BinSpec, reference: MetricReference): MetricValue;
  /** Whether the metric compares against a reference distribution (no reference: no value). */
  needsReference(name: string): boolean;
  /** A training baseline as a rollup on `spec`'s edges. */
  referenceFromSummary(summary: TrainingSummary, spec: BinSpec): Rollup;
}

/** A model version the engine watches. */
export interface WatchedVersion {
  model: string;
  version: number;
  spec: BinSpec;
  trainingSummary: TrainingSummary | null;
  validationMae: number | null;
}

export interface VersionSource {
  versions(): Promise<WatchedVersion[]>;
}

/** The devices of each arm of the rollouts a version takes part in. */
export interface RolloutArmSource {
  arms(model: string, version: number): Promise<Array<{ arm: string; devices: readonly string[] }>>;
}
