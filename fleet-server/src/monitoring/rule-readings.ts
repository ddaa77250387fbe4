/**
 * @module monitoring/rule-readings
 * A rule's readings for one model version at one moment: the metric over the trailing window
 * [now − windowMs, now) of device time, for each scope instance the rule's scope names (each
 * device, each group, each rollout arm, the version fleet-wide).
 *
 * Cost: rollups are read once per (version, scope kind, window) and tick, whatever the number of
 * rules and scope instances: every per-device rule with a 5-minute window shares ONE sumPerScope
 * call, and rollout arms are merged from that same per-device map. Rollups of a device are kept
 * in 10-minute windows (windows.ts), and a window counts whole when any part of it overlaps, so a
 * per-device window really reads up to ten minutes more; fleet and group rules see the minute.
 *
 * `fleet` and `version` scopes read the same rollups (the version fleet-wide): versions are never
 * merged with each other, because their histograms are counted on different bin edges.
 */
import { breaches, emptyRollup, mergeRollup, type Rollup, type Rule, type ScopeKey } from '@edgeloop/protocol';
import type { MetricPort, MetricReference, RolloutArmSource, RollupReader, WatchedVersion } from './ports.js';

export interface ScopeReading {
  /** `fleet`, `version`, `group:<name>`, `device:<id>` or `arm:<arm>`. */
  scope: string;
  deviceId: string | null;
  value: number | null;
  samples: number;
}

type ScopeMap = Map<ScopeKey, Rollup>;
type WindowList = Awaited<ReturnType<RollupReader['windows']>>;

/** Rollup reads of one tick, shared by every rule that needs the same ones. */
export class TickReads {
  private readonly sums = new Map<string, Promise<ScopeMap>>();
  private readonly windowLists = new Map<string, Promise<WindowList>>();

  constructor(
    private readonly rollups: RollupReader,
    readonly now: number,
  ) {}

  perScope(v: WatchedVersion, prefix: 'device:' | 'group:' | 'fleet', windowMs: number): Promise<ScopeMap> {
    const key = `${v.model}@${v.version}|${prefix}|${windowMs}`;
    let hit = this.sums.get(key);
    if (!hit) {
      hit = this.rollups.sumPerScope({ ...this.range(v, windowMs), scopePrefix: prefix });
      this.sums.set(key, hit);
    }
    return hit;
  }

  windows(v: WatchedVersion, prefix: 'device:' | 'group:' | 'fleet', windowMs: number): Promise<WindowList> {
    const key = `${v.model}@${v.version}|${prefix}|${windowMs}`;
    let hit = this.windowLists.get(key);
    if (!hit) {
      hit = this.rollups.windows({ ...this.range(v, windowMs), scopePrefix: prefix });
      this.windowLists.set(key, hit);
    }
    return hit;
  }

  private range(v: WatchedVersion, windowMs: number) {
    return { model: v.model, version: v.version, role: 'serving' as const, from: this.now - windowMs, to: this.now };
  }
}

export interface ReadingDeps {
  metrics: MetricPort;
  arms?: RolloutArmSource;
}

const prefixOf = (scope: Rule['scope']): 'device:' | 'group:' | 'fleet' =>
  scope === 'group' ? 'group:' : scope === 'device' || scope === 'rollout-arm' ? 'device:' : 'fleet';

/** Scope instances → their rollups (per whole window) for the rule. */
async function scopeRollups(
  rule: Rule,
  v: WatchedVersion,
  reads: TickReads,
  deps: ReadingDeps,
): Promise<Map<string, Rollup>> {
  const perScope = await reads.perScope(v, prefixOf(rule.scope), rule.windowMs);
  const out = new Map<string, Rollup>();
  switch (rule.scope) {
    case 'fleet':
    case 'version': {
      const fleet = perScope.get('fleet');
      if (fleet) out.set(rule.scope, fleet);
      return out;
    }
    case 'group':
      for (const [scope, r] of perScope)
        if (rule.group === undefined || scope === `group:${rule.group}`) out.set(scope, r);
      return out;
    case 'device':
      for (const [scope, r] of perScope) out.set(scope, r);
      return out;
    case 'rollout-arm': {
      for (const { arm, devices } of (await deps.arms?.arms(v.model, v.version)) ?? []) {
        const merged = emptyRollup(v.spec.classes !== undefined);
        for (const d of devices) {
          const r = perScope.get(`device:${d}`);
          if (r) mergeRollup(merged, r);
        }
        if (merged.count > 0) out.set(`arm:${arm}`, merged);
      }
      return out;
    }
  }
}

const deviceOf = (scope: string): string | null => (scope.startsWith('device:') ? scope.slice('device:'.length) : null);

/** Mean, max or min of the metric over the stored windows of each scope instance (device and group scopes). */
async function steppedReadings(
  rule: Rule,
  v: WatchedVersion,
  reference: MetricReference,
  reads: TickReads,
  deps: ReadingDeps,
): Promise<ScopeReading[]> {
  const byScope = new Map<string, number[]>();
  const samples = new Map<string, number>();
  for (const w of await reads.windows(v, prefixOf(rule.scope), rule.windowMs)) {
    const scope = rule.scope === 'fleet' || rule.scope === 'version' ? rule.scope : w.scope;
    if (rule.scope === 'group' && rule.group !== undefined && w.scope !== `group:${rule.group}`) continue;
    const m = deps.metrics.compute(rule.metric, w.rollup, v.spec, reference);
    samples.set(scope, (samples.get(scope) ?? 0) + m.samples);
    if (m.value !== null) byScope.set(scope, [...(byScope.get(scope) ?? []), m.value]);
  }
  const out: ScopeReading[] = [];
  for (const [scope, n] of samples) {
    const values = byScope.get(scope) ?? [];
    const value =
      values.length === 0
        ? null
        : rule.aggregation === 'max'
          ? Math.max(...values)
          : rule.aggregation === 'min'
            ? Math.min(...values)
            : values.reduce((a, b) => a + b, 0) / values.length;
    out.push({ scope, deviceId: deviceOf(scope), value, samples: n });
  }
  return out;
}

/** The rule's readings on version `v` at `reads.now`. */
export async function ruleReadings(
  rule: Rule,
  v: WatchedVersion,
  reference: MetricReference,
  reads: TickReads,
  deps: ReadingDeps,
): Promise<ScopeReading[]> {
  if (rule.aggregation !== 'merged' && rule.scope !== 'rollout-arm')
    return steppedReadings(rule, v, reference, reads, deps);
  const out: ScopeReading[] = [];
  for (const [scope, rollup] of await scopeRollups(rule, v, reads, deps)) {
    const m = deps.metrics.compute(rule.metric, rollup, v.spec, reference);
    out.push({ scope, deviceId: deviceOf(scope), value: m.value, samples: m.samples });
  }
  return out;
}

/** Values a device needs in the rule's window before it can be named as affected (at most). */
export const MIN_DEVICE_SAMPLES = 100;

/**
 * The devices a version-, fleet- or arm-wide breach is seen on: each device whose own rollups
 * over the rule's window breach the same condition, worst first. A device needs its share of the
 * rule's minimum sample count (the minimum over the devices with data), capped at
 * MIN_DEVICE_SAMPLES. One sumPerScope read (shared with the tick's per-device
 * rules). A device's windows are ten minutes long, so its value mixes in up to ten minutes from
 * before the breach: a device listed here is surely affected, one missing may yet be.
 */
export async function affectedDevices(
  rule: Rule,
  v: WatchedVersion,
  reference: MetricReference,
  reads: TickReads,
  deps: ReadingDeps,
): Promise<string[]> {
  if (rule.scope === 'device' || rule.scope === 'group') return [];
  const perDevice = await reads.perScope(v, 'device:', rule.windowMs);
  const min = Math.min(MIN_DEVICE_SAMPLES, Math.ceil(rule.minSamples / Math.max(1, perDevice.size)));
  const hits: Array<{ deviceId: string; value: number }> = [];
  for (const [scope, rollup] of perDevice) {
    const m = deps.metrics.compute(rule.metric, rollup, v.spec, reference);
    if (m.value === null || m.samples < min || !breaches(rule.condition, m.value)) continue;
    hits.push({ deviceId: scope.slice('device:'.length), value: m.value });
  }
  const worstFirst = rule.condition.op === 'below' ? 1 : -1;
  return hits.sort((a, b) => worstFirst * (a.value - b.value)).map((h) => h.deviceId);
}
