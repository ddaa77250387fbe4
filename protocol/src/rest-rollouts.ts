/**
 * @module rest-rollouts
 * Shapes of the rollout REST API (/api/v1/rollouts): the request the CLI sends to create a
 * rollout and the progress views the server answers with. The server validates requests with
 * its own zod schema, which is checked against {@link CreateRolloutRequest} at compile time.
 */

export const ROLLOUT_STRATEGIES = ['direct', 'staged', 'canary', 'ab', 'shadow'] as const;
export type RolloutStrategy = (typeof ROLLOUT_STRATEGIES)[number];

/** running and paused are "active": at most one active rollout per model. */
export const ROLLOUT_STATES = ['running', 'paused', 'completed', 'aborted', 'rolled-back'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

/**
 * Per device: pending (not yet given the candidate) → assigned → downloading → verified → active
 * → healthy (active for `healthyAfterMs` and online), or failed | rejected | timed-out; then
 * rolled-back when a rollback gave it the re-released baseline. skipped: not part of the rollout
 * after all (already on the candidate or newer, or reassigned outside the rollout).
 */
export const ROLLOUT_DEVICE_STATES = [
  'pending', 'assigned', 'downloading', 'verified', 'active', 'healthy', 'failed', 'rejected', 'timed-out', 'rolled-back', 'skipped',
] as const;
export type RolloutDeviceState = (typeof ROLLOUT_DEVICE_STATES)[number];

/** Which devices a rollout covers; fixed when it is created. */
export type RolloutTarget =
  | { all: true }
  | { group: string }
  | { tags: Record<string, string> }
  | { devices: string[] };

/** One wave as requested: a cumulative share of the target devices (percent or count). */
export interface WaveSpec {
  percent?: number;
  count?: number;
  /** Soak time after the wave started before it may advance (ms). */
  waitMs?: number;
}

/** Tunables; every field has a documented default (fleet-server rollouts/rollout-params.ts). */
export interface RolloutParameters {
  waves?: WaveSpec[];
  canary?: { percent?: number; count?: number };
  abPercent?: number;
  waitMs?: number;
  successThreshold?: number;
  errorThreshold?: number;
  errorAction?: 'pause' | 'rollback';
  minDevices?: number;
  deviceTimeoutMs?: number;
  offlineGraceMs?: number;
  healthyAfterMs?: number;
  maxConcurrentDownloads?: number;
  liveError?: {
    maxErrorRatio?: number;
    minDelta?: number;
    minRecords?: number;
    required?: 'auto' | 'always' | 'never';
    baselineLookbackMs?: number;
    action?: 'pause' | 'rollback';
  };
  drift?: { maxPsi?: number; minRecords?: number; action?: 'pause' | 'rollback' };
  /** Shadow only: what `promote` turns the rollout into. */
  promoteTo?: { strategy: 'direct' | 'staged' | 'canary'; waves?: WaveSpec[]; canary?: { percent?: number; count?: number } };
}

export interface CreateRolloutRequest {
  model: string;
  version: number;
  strategy: RolloutStrategy;
  target: RolloutTarget;
  parameters?: RolloutParameters;
  reason?: string;
}

export interface RolloutSummary {
  id: string;
  model: string;
  version: number;
  /** What most target devices served when the rollout was created (null: nothing). */
  baselineVersion: number | null;
  strategy: RolloutStrategy;
  /** The device role the candidate is assigned with: serve, or shadow (never answers). */
  role: 'serve' | 'shadow';
  target: RolloutTarget;
  state: RolloutState;
  reason: string | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  currentWave: number;
  waveCount: number;
  /** ab/shadow: the candidate reached its share and waits for promote or abort. */
  holding: boolean;
  /** Rollback: baseline version → the new version its artifact was re-released as. */
  rollbackVersions: Record<string, number>;
  devices: number;
  counts: Partial<Record<RolloutDeviceState, number>>;
}

export interface ErrorArm {
  /** Which version this arm measures. */
  version: number | null;
  /** Reference-joined records (prediction and reference both present). */
  records: number;
  /** Mean absolute error of prediction vs reference; null without records. */
  mae: number | null;
}

export interface GateReading {
  gate: 'failures' | 'success' | 'wait' | 'live-error' | 'drift' | 'devices';
  status: 'pass' | 'fail' | 'waiting' | 'insufficient' | 'off';
  /** The measured value (a rate, a ratio, ms waited, PSI). */
  value: number | null;
  threshold: number | null;
  detail: string;
}

export interface WaveProgress {
  index: number;
  /** Devices in this wave and the cumulative count reached when it is done. */
  size: number;
  cumulative: number;
  waitMs: number;
  startedAt: number | null;
  passedAt: number | null;
  counts: Partial<Record<RolloutDeviceState, number>>;
  /** Devices offline longer than offlineGraceMs that have not finished (counted as failures). */
  offline: number;
}

export interface RolloutDeviceView {
  deviceId: string;
  wave: number;
  state: RolloutDeviceState;
  previousVersion: number | null;
  assignedAt: number | null;
  stateAt: number;
  /** When each state was first entered. */
  times: Partial<Record<RolloutDeviceState, number>>;
  reason: string | null;
}

export interface RolloutDetail {
  rollout: RolloutSummary;
  parameters: Required<Pick<RolloutParameters, 'successThreshold' | 'errorThreshold' | 'errorAction' | 'minDevices'>> & RolloutParameters;
  waves: WaveProgress[];
  gates: GateReading[];
  liveError: { candidate: ErrorArm; baseline: ErrorArm; ratio: number | null };
  drift: { psi: number | null; records: { candidate: number; baseline: number } };
  devices: RolloutDeviceView[];
}
