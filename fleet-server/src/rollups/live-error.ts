/**
 * @module rollups/live-error
 * Live error computed in one place, from rollups: the REST route, `edgeloop live-error` and the
 * rollout gates all sum the same stored rollups with sumDeviceSlices (or the fleet's), so they
 * agree to the last digit on the same devices and window.
 *
 * Time is device time (the record's ts, as the rollups are keyed), and a window counts whole
 * when any part of it overlaps the range asked for: a `since` falls back to the start of its
 * window — a minute for the fleet, ten minutes per device.
 */
import {
  errorSummary as rollupError,
  binSpecOfVersion,
  denseCounts,
  emptyRollup,
  mergeRollup,
  type BinSpec,
  type LiveError,
  type Rollup,
  type RollupRole,
  type ScopeKey,
} from '@edgeloop/protocol';
import type { FleetStore, LiveErrorQuery, RollupRepository } from '../store/fleet-store.js';

/** Error statistics of a rollup's records with both a prediction and a reference. */
export interface ErrorSummary {
  n: number;
  mae: number | null;
  rmse: number | null;
  /** Mean of prediction − reference. */
  bias: number | null;
}

export function errorSummary(r: Rollup): ErrorSummary {
  return rollupError(r) ?? { n: 0, mae: null, rmse: null, bias: null };
}

/** One device's rollups of one version and role over [from, to) (device time). */
export interface DeviceSlice {
  deviceId: string;
  version: number;
  role: RollupRole;
  from?: number;
  to?: number;
}

const overlaps = (s: DeviceSlice, windowStart: number, windowMs: number) =>
  (s.to === undefined || windowStart < s.to) && (s.from === undefined || windowStart + windowMs > s.from);

/**
 * The slices' rollups summed per version (versions have their own bin edges, so only their
 * error parts may be added across versions). One read per (version, role).
 */
export async function sumDeviceSlices(
  rollups: RollupRepository,
  model: string,
  slices: readonly DeviceSlice[],
): Promise<Map<number, Rollup>> {
  const groups = new Map<string, DeviceSlice[]>();
  for (const s of slices) {
    const k = `${s.version}\u0000${s.role}`;
    const g = groups.get(k);
    if (g) g.push(s);
    else groups.set(k, [s]);
  }
  const out = new Map<number, Rollup>();
  for (const group of groups.values()) {
    const { version, role } = group[0]!;
    const bySlice = new Map<ScopeKey, DeviceSlice[]>();
    for (const s of group) {
      const scope: ScopeKey = `device:${s.deviceId}`;
      bySlice.set(scope, [...(bySlice.get(scope) ?? []), s]);
    }
    const froms = group.map((s) => s.from);
    const tos = group.map((s) => s.to);
    const windows = await rollups.windows({
      model,
      version,
      role,
      scopes: [...bySlice.keys()],
      ...(froms.every((f) => f !== undefined) ? { from: Math.min(...(froms as number[])) } : {}),
      ...(tos.every((t) => t !== undefined) ? { to: Math.max(...(tos as number[])) } : {}),
    });
    const total = out.get(version) ?? emptyRollup();
    for (const w of windows)
      if (bySlice.get(w.scope)!.some((s) => overlaps(s, w.windowStart, w.windowMs))) mergeRollup(total, w.rollup);
    out.set(version, total);
  }
  return out;
}

/** The error parts of rollups of several versions, summed. */
export function errorOfVersions(perVersion: ReadonlyMap<number, Rollup>): ErrorSummary {
  const total = emptyRollup();
  for (const r of perVersion.values()) {
    total.error.n += r.error.n;
    total.error.sum += r.error.sum;
    total.error.sumSq += r.error.sumSq;
    total.error.absSum += r.error.absSum;
  }
  return errorSummary(total);
}

/**
 * Counts of a sparse histogram on `from` edges moved onto `to` edges, each bin's count spread
 * over the target bins in proportion to their overlap (values assumed even within a bin). Equal
 * edges are taken as they are.
 */
export function rebin(bins: Record<string, number>, from: readonly number[], to: readonly number[]): number[] {
  if (from === to || (from.length === to.length && from.every((e, i) => e === to[i]))) return denseCounts(bins, to);
  const out = new Array<number>(to.length - 1).fill(0);
  for (const k in bins) {
    const i = Number(k);
    const c = bins[k]!;
    const lo = from[i]!;
    const hi = from[i + 1]!;
    const width = hi - lo;
    for (let j = 0; j < out.length; j++) {
      const a = Math.max(lo, to[j]!);
      const b = Math.min(hi, to[j + 1]!);
      if (width <= 0) {
        if (lo >= to[j]! && (lo < to[j + 1]! || j === out.length - 1)) out[j]! += c;
      } else if (b > a) out[j]! += (c * (b - a)) / width;
    }
    // Mass outside the target range lands in its end bins, as binIndex counts outliers.
    if (width > 0) {
      if (lo < to[0]!) out[0]! += (c * (Math.min(hi, to[0]!) - lo)) / width;
      if (hi > to[to.length - 1]!) out[out.length - 1]! += (c * (hi - Math.max(lo, to[to.length - 1]!))) / width;
    } else if (lo < to[0]!) out[0]! += c;
  }
  return out;
}

/** Each version's BinSpec, read once per call. */
export async function binSpecs(
  models: FleetStore['models'],
  model: string,
  versions: Iterable<number>,
): Promise<Map<number, BinSpec>> {
  const out = new Map<number, BinSpec>();
  for (const v of new Set(versions)) {
    const record = await models.get(model, v);
    out.set(v, binSpecOfVersion(record?.manifest, record?.trainingSummary));
  }
  return out;
}

/**
 * GET /telemetry/error and `edgeloop live-error`: MAE and RMSE per (version, role) from the
 * rollups — the fleet's, or the listed devices' — over windows overlapping [since, now).
 */
export async function liveErrorFromRollups(
  store: Pick<FleetStore, 'rollups' | 'models'>,
  q: LiveErrorQuery,
): Promise<LiveError[]> {
  const versions =
    q.version !== undefined
      ? [q.version]
      : (await store.models.versionsOf(q.model)).map((v) => v.version).sort((a, b) => a - b);
  const roles: RollupRole[] = q.shadow === undefined ? ['serving', 'shadow'] : [q.shadow ? 'shadow' : 'serving'];
  const out: LiveError[] = [];
  for (const version of versions)
    for (const role of roles) {
      const e = q.devices
        ? errorOfVersions(
            await sumDeviceSlices(
              store.rollups,
              q.model,
              q.devices.map((deviceId) => ({
                deviceId,
                version,
                role,
                ...(q.since !== undefined ? { from: q.since } : {}),
              })),
            ),
          )
        : errorSummary(
            await store.rollups.sum({
              model: q.model,
              version,
              role,
              scopes: ['fleet'],
              ...(q.since !== undefined ? { from: q.since } : {}),
            }),
          );
      if (e.n > 0) out.push({ model: q.model, version, shadow: role === 'shadow', n: e.n, mae: e.mae, rmse: e.rmse });
    }
  // Asked for one exact (version, role): say "no data" explicitly rather than returning nothing.
  if (out.length === 0 && q.version !== undefined && q.shadow !== undefined)
    return [{ model: q.model, version: q.version, shadow: q.shadow, n: 0, mae: null, rmse: null }];
  return out;
}
