/**
 * @module monitoring/device-rules
 * Evaluates the device rules on the agent's own windows: for every rule and every model version
 * the device serves, the rule's metric over its trailing window of device time (ending at the
 * newest record's ts), then protocol's stepRule, the same state machine the fleet runs. So a
 * device cut off from its fleet still fires (and resolves) the same rules, on data time.
 *
 * Metrics come from the shared metric catalogue through a `DeviceMetric` function (the agent
 * computes nothing of its own); a metric that needs a reference the version lacks (no baseline
 * in its manifest) has no value, and the rule no verdict.
 */
import {
  INITIAL_RULE_STATE,
  MINUTE_MS,
  stepRule,
  thresholdOf,
  type Rollup,
  type Rule,
  type RuleState,
} from '@edgeloop/protocol';
import type { LocalWindows } from './local-windows.js';
import type { LocalAlerts } from './local-alerts.js';
import type { VersionSpec } from './version-spec.js';

export interface MetricReading {
  value: number | null;
  samples: number;
}

/** One metric of a live rollup of a version (catalogue name, e.g. "drift.features"). */
export type DeviceMetric = (name: string, live: Rollup, version: VersionSpec) => MetricReading;

export class DeviceRules {
  private rules: readonly Rule[] = [];
  private readonly states = new Map<string, RuleState>();
  /** Metric names the catalogue refused, reported once each. */
  private readonly refused = new Set<string>();

  constructor(
    private readonly windows: LocalWindows,
    private readonly metric: DeviceMetric,
    private readonly alerts: LocalAlerts,
    private readonly onRefused: (rule: string, err: Error) => void,
  ) {}

  setRules(rules: readonly Rule[]): void {
    const names = new Set(rules.map((r) => r.name));
    // A rule that went away resolves what it had firing, so nothing stays stuck.
    for (const [key, state] of this.states) {
      const [name, model, version] = key.split('\u0000') as [string, string, string];
      if (names.has(name)) continue;
      if (state.phase === 'firing')
        this.alerts.change({
          model,
          version: Number(version),
          rule: name,
          metric: this.rules.find((r) => r.name === name)?.metric ?? 'unknown',
          state: 'resolved',
          value: state.value,
          threshold: null,
          samples: state.samples,
          ts: this.windows.now() ?? Date.now(),
          reason: `device rule ${name} was removed`,
        });
      this.states.delete(key);
    }
    this.rules = rules.filter((r) => r.enabled && r.onDevice);
  }

  /** One round: every rule × every served version with data. */
  evaluate(): void {
    const now = this.windows.now();
    if (now === undefined) return;
    for (const { spec, role } of this.windows.keys()) {
      if (role !== 'serving') continue;
      for (const rule of this.rules) {
        if (rule.model !== undefined && rule.model !== spec.model) continue;
        if (rule.version !== undefined && rule.version !== spec.version) continue;
        this.judge(rule, spec, now);
      }
    }
  }

  state(rule: string, model: string, version: number): RuleState | undefined {
    return this.states.get(`${rule}\u0000${model}\u0000${version}`);
  }

  private judge(rule: Rule, spec: VersionSpec, now: number): void {
    let reading: MetricReading;
    try {
      reading = this.read(rule, spec, now);
    } catch (err) {
      if (!this.refused.has(rule.name)) {
        this.refused.add(rule.name);
        this.onRefused(rule.name, err as Error);
      }
      return;
    }
    const key = `${rule.name}\u0000${spec.model}\u0000${spec.version}`;
    const step = stepRule(rule, this.states.get(key) ?? INITIAL_RULE_STATE, { ...reading, ts: now });
    this.states.set(key, step.state);
    if (step.transition !== 'firing' && step.transition !== 'resolved') return;
    const threshold = thresholdOf(rule.condition, reading.value);
    const windowS = Math.round(rule.windowMs / 1000);
    this.alerts.change({
      model: spec.model,
      version: spec.version,
      rule: rule.name,
      metric: rule.metric,
      state: step.transition,
      value: reading.value,
      threshold,
      samples: reading.samples,
      ts: now,
      reason:
        step.transition === 'firing'
          ? `${rule.metric} = ${format(reading.value)} over the last ${windowS} s (${reading.samples} samples) breaches ${rule.condition.op} ${threshold}` +
            (rule.forMs > 0 ? ` for ${Math.round(rule.forMs / 1000)} s` : '')
          : `${rule.metric} = ${format(reading.value)} over the last ${windowS} s is back`,
    });
  }

  private read(rule: Rule, spec: VersionSpec, now: number): MetricReading {
    const from = now - rule.windowMs;
    if (rule.aggregation === 'merged') {
      const live = this.windows.merged(spec.model, spec.version, 'serving', from, now + 1)!;
      return this.metric(rule.metric, live, spec);
    }
    // mean / max / min of the metric per minute of the window.
    const values: number[] = [];
    let samples = 0;
    for (let t = from; t <= now; t += MINUTE_MS) {
      const live = this.windows.merged(spec.model, spec.version, 'serving', t, t + 1)!;
      if (live.count === 0) continue;
      const r = this.metric(rule.metric, live, spec);
      samples += r.samples;
      if (r.value !== null) values.push(r.value);
    }
    if (values.length === 0) return { value: null, samples };
    const value =
      rule.aggregation === 'max'
        ? Math.max(...values)
        : rule.aggregation === 'min'
          ? Math.min(...values)
          : values.reduce((a, b) => a + b, 0) / values.length;
    return { value, samples };
  }
}

function format(v: number | null): string {
  return v === null ? 'n/a' : Number(v.toPrecision(4)).toString();
}
