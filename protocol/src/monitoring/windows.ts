/**
 * @module monitoring/windows
 * How rollups are keyed: model version × role × scope × window. Fleet and group windows are a
 * minute, so fleet-wide rules can fire within a minute of a change; a device's are ten minutes,
 * which keeps per-device storage inside its budget (ARCHITECTURE.md, "Monitoring") while a
 * device's own drift is still seen on the device itself within seconds (the agent's detectors).
 * Older windows are merged into coarser ones (DOWNSAMPLE_STEPS); merges are exact, so only the
 * time resolution is lost.
 */

/** serving: the answered model's records; shadow: the shadow model run beside it. */
export const ROLLUP_ROLES = ['serving', 'shadow'] as const;
export type RollupRole = (typeof ROLLUP_ROLES)[number];

export const SCOPE_KINDS = ['fleet', 'group', 'device'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

/** `fleet`, `group:<name>` or `device:<id>`. */
export type ScopeKey = 'fleet' | `group:${string}` | `device:${string}`;

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Window length of fresh rollups per scope kind. */
export const WINDOW_MS: Readonly<Record<ScopeKind, number>> = {
  fleet: MINUTE_MS,
  group: MINUTE_MS,
  device: 10 * MINUTE_MS,
};

/** From which age on windows of a scope kind are merged into which length (ascending ages). */
export const DOWNSAMPLE_STEPS: Readonly<Record<ScopeKind, ReadonlyArray<{ olderThanMs: number; windowMs: number }>>> = {
  fleet: [
    { olderThanMs: 7 * DAY_MS, windowMs: HOUR_MS },
    { olderThanMs: 90 * DAY_MS, windowMs: DAY_MS },
  ],
  group: [
    { olderThanMs: 7 * DAY_MS, windowMs: HOUR_MS },
    { olderThanMs: 90 * DAY_MS, windowMs: DAY_MS },
  ],
  device: [
    { olderThanMs: 2 * DAY_MS, windowMs: HOUR_MS },
    { olderThanMs: 30 * DAY_MS, windowMs: DAY_MS },
  ],
};

export function scopeKind(scope: ScopeKey): ScopeKind {
  return scope === 'fleet' ? 'fleet' : scope.startsWith('group:') ? 'group' : 'device';
}

/** Start of the window of length `windowMs` holding `ts` (windows are aligned to the epoch). */
export function windowStart(ts: number, windowMs: number): number {
  return ts - (((ts % windowMs) + windowMs) % windowMs);
}
