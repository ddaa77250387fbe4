/**
 * @module monitoring/rule-engine
 * The rule engine, a server extension with start/stop like the rollout engine: every
 * `evaluateEveryMs` (default 5 s) it evaluates each enabled rule on each watched model version
 * and each scope instance (rule-readings.ts), steps the shared state machine (protocol's
 * stepRule), keeps the state (persisted on every transition, so a restart neither re-fires nor
 * forgets a pending breach) and hands transitions to the alert book.
 *
 * Time is data time: `now()` is injectable because the simulator compresses time, records carry
 * simulated timestamps and rollup windows are on record time. The window always ends at now().
 *
 * A version's reference distribution is the live window an operator chose for it (stored per
 * version), else its training baseline (trainingSummary). A metric that needs a reference on a
 * version with neither gets no value, so no verdict, and the log says so once per rule and version.
 */
import type { Logger } from 'pino';
import { INITIAL_RULE_STATE, ruleSchema, stepRule, type Rule } from '@edgeloop/protocol';
import type { MonitoringRepository, RuleRecord, RuleStateRecord } from '../store/fleet-store.js';
import type { AlertBook } from './alert-book.js';
import type { IncidentTracker } from './incident-tracker.js';
import type {
  MetricPort,
  MetricReference,
  RolloutArmSource,
  RollupReader,
  VersionSource,
  WatchedVersion,
} from './ports.js';
import { affectedDevices, ruleReadings, TickReads } from './rule-readings.js';

export const DEFAULT_EVALUATE_EVERY_MS = 5_000;

export interface RuleEngineOptions {
  repo: MonitoringRepository;
  rollups: RollupReader;
  metrics: MetricPort;
  versions: VersionSource;
  arms?: RolloutArmSource;
  book: AlertBook;
  incidents: IncidentTracker;
  log: Logger;
  /** Data time (default Date.now). */
  now?: () => number;
  evaluateEveryMs?: number;
  /** Rules evaluated unless a stored rule of the same name overrides them (the default set). */
  implicitRules?: () => readonly RuleRecord[];
}

export interface TickSummary {
  now: number;
  rules: number;
  versions: number;
  readings: number;
  transitions: number;
}

/** Stands in for a rule that is gone when its last alert is closed (only name and metric are read). */
const ORPHAN_RULE = ruleSchema.parse({
  name: 'removed',
  metric: 'count',
  scope: 'version',
  condition: { op: 'above', threshold: 0 },
  windowMs: 1000,
});

const stateKey = (rule: string, model: string, version: number, scope: string) =>
  `${rule}|${model}|${version}|${scope}`;

const appliesTo = (r: Rule, v: WatchedVersion) =>
  r.enabled && (r.model === undefined || r.model === v.model) && (r.version === undefined || r.version === v.version);

export class RuleEngine {
  private readonly states = new Map<string, RuleStateRecord>();
  private loaded = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> | undefined;
  private readonly told = new Set<string>();
  private readonly references = new Map<string, { stamp: string; rollup: MetricReference['rollup'] }>();
  readonly now: () => number;

  constructor(private readonly o: RuleEngineOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    // Another server may have judged while this one was not leading: start from the stored states.
    this.loaded = false;
    this.states.clear();
    const every = this.o.evaluateEveryMs ?? DEFAULT_EVALUATE_EVERY_MS;
    this.timer = setInterval(() => {
      if (this.inFlight) return; // a slow tick is not stacked on
      this.inFlight = this.tick()
        .catch((err: Error) => this.o.log.error({ err: err.message }, 'rule evaluation failed'))
        .finally(() => (this.inFlight = undefined));
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /** Stored rules (every page) plus the implicit ones no stored rule overrides. */
  async effectiveRules(): Promise<RuleRecord[]> {
    const stored: RuleRecord[] = [];
    for (let page = await this.o.repo.listRules({ limit: 500 }); page.length > 0;) {
      stored.push(...page);
      page =
        page.length < 500 ? [] : await this.o.repo.listRules({ after: page[page.length - 1]!.rule.name, limit: 500 });
    }
    const names = new Set(stored.map((r) => r.rule.name));
    return [...stored, ...(this.o.implicitRules?.() ?? []).filter((r) => !names.has(r.rule.name))];
  }

  /** One evaluation of every rule at now(). */
  async tick(): Promise<TickSummary> {
    const now = this.now();
    if (!this.loaded) {
      for (const s of await this.o.repo.ruleStates()) this.states.set(stateKey(s.rule, s.model, s.version, s.scope), s);
      this.loaded = true;
    }
    const rules = (await this.effectiveRules()).filter((r) => r.rule.enabled);
    const versions = await this.o.versions.versions();
    const reads = new TickReads(this.o.rollups, now);
    const summary: TickSummary = { now, rules: rules.length, versions: versions.length, readings: 0, transitions: 0 };
    for (const v of versions) {
      const mine = rules.filter((r) => appliesTo(r.rule, v));
      if (mine.length === 0) continue;
      const reference = await this.referenceOf(v);
      for (const { rule } of mine) {
        if (this.o.metrics.needsReference(rule.metric) && !reference.rollup) {
          this.tellNoReference(rule, v);
          continue;
        }
        let readings;
        try {
          readings = await ruleReadings(rule, v, reference, reads, {
            metrics: this.o.metrics,
            ...(this.o.arms ? { arms: this.o.arms } : {}),
          });
        } catch (err) {
          // One rule that cannot be computed (e.g. a metric name this build does not know) must not stop the others.
          this.tellOnce(`fail|${rule.name}|${v.model}@${v.version}`, () =>
            this.o.log.error(
              { rule: rule.name, model: v.model, version: v.version, err: (err as Error).message },
              'rule could not be evaluated; fix or remove it with "edgeloop rules"',
            ),
          );
          continue;
        }
        for (const r of readings) {
          summary.readings++;
          const key = stateKey(rule.name, v.model, v.version, r.scope);
          const held = this.states.get(key) ?? {
            rule: rule.name,
            model: v.model,
            version: v.version,
            scope: r.scope,
            state: INITIAL_RULE_STATE,
            alertId: null,
          };
          const step = stepRule(rule, held.state, { value: r.value, samples: r.samples, ts: now });
          if (!step.transition) {
            this.states.set(key, { ...held, state: step.state });
            continue;
          }
          summary.transitions++;
          const devices =
            step.transition === 'firing'
              ? await affectedDevices(rule, v, reference, reads, {
                  metrics: this.o.metrics,
                  ...(this.o.arms ? { arms: this.o.arms } : {}),
                })
              : [];
          const alert = await this.o.book.serverTransition({
            rule,
            model: v.model,
            version: v.version,
            scope: r.scope,
            deviceId: r.deviceId,
            transition: step.transition,
            value: r.value,
            samples: r.samples,
            ts: now,
            since: step.state.since ?? held.state.since ?? now,
            alertId: held.alertId,
            devices,
          });
          const open = step.transition === 'pending' || step.transition === 'firing';
          const next: RuleStateRecord = { ...held, state: step.state, alertId: open ? alert.id : null };
          this.states.set(key, next);
          await this.o.repo.putRuleState(next);
        }
      }
    }
    summary.transitions += await this.closeOrphans(rules, now);
    await this.o.incidents.sweep(now);
    return summary;
  }

  /**
   * Ends the open breaches of rules that were removed or disabled (firing: resolved, pending:
   * cancelled), so their alerts and incidents do not stay open with nothing left to close them.
   */
  private async closeOrphans(active: readonly RuleRecord[], now: number): Promise<number> {
    const names = new Set(active.map((r) => r.rule.name));
    let closed = 0;
    for (const [key, held] of this.states) {
      if (names.has(held.rule)) continue;
      if (held.state.phase !== 'inactive' && held.alertId) {
        const prior = await this.o.repo.getAlert(held.alertId);
        const rule = prior && (await this.o.repo.getRule(held.rule))?.rule;
        if (prior)
          await this.o.book.serverTransition({
            rule: rule ?? { ...ORPHAN_RULE, name: prior.rule, metric: prior.metric },
            model: held.model,
            version: held.version,
            scope: held.scope,
            deviceId: prior.deviceId,
            transition: held.state.phase === 'firing' ? 'resolved' : 'cancelled',
            value: held.state.value,
            samples: held.state.samples,
            ts: now,
            since: held.state.since ?? now,
            alertId: held.alertId,
            reason: 'the rule was removed or disabled',
          });
        closed++;
      }
      this.states.delete(key);
      await this.o.repo.putRuleState({ ...held, state: INITIAL_RULE_STATE, alertId: null });
    }
    return closed;
  }

  /** The version's reference: its chosen live window, else its training baseline; plus its validation error. */
  private async referenceOf(v: WatchedVersion): Promise<MetricReference> {
    const key = `${v.model}@${v.version}`;
    const window = await this.o.repo.getReferenceWindow(v.model, v.version);
    const stamp = window
      ? `window:${window.setAt}:${window.from}:${window.to}:${window.scope}`
      : v.trainingSummary
        ? 'baseline'
        : 'none';
    let cached = this.references.get(key);
    if (cached?.stamp !== stamp) {
      const rollup = window
        ? await this.o.rollups.sum({
            model: v.model,
            version: v.version,
            role: 'serving',
            scopes: [window.scope],
            from: window.from,
            to: window.to,
          })
        : v.trainingSummary
          ? this.o.metrics.referenceFromSummary(v.trainingSummary, v.spec)
          : undefined;
      // A window with no data compares with nothing: no verdict rather than "everything drifted".
      cached = { stamp, rollup: rollup && rollup.count > 0 ? rollup : undefined };
      this.references.set(key, cached);
    }
    return {
      ...(cached.rollup ? { rollup: cached.rollup } : {}),
      ...(v.validationMae !== null ? { validationMae: v.validationMae } : {}),
    };
  }

  private tellOnce(key: string, tell: () => void): void {
    if (this.told.has(key)) return;
    this.told.add(key);
    tell();
  }

  private tellNoReference(rule: Rule, v: WatchedVersion): void {
    this.tellOnce(`noref|${rule.name}|${v.model}@${v.version}`, () =>
      this.o.log.info(
        { rule: rule.name, model: v.model, version: v.version, metric: rule.metric },
        'rule not judged: the version has no training baseline and no reference window; set one with "edgeloop rules reference"',
      ),
    );
  }
}
