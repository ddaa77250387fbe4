/**
 * @module loop/loop-engine
 * The retraining loop: starts a run when a policy's trigger says so (an incident opened by the
 * drift rules, a schedule, enough new labelled samples, or an operator), within the policy's
 * guards (one run per model at a time, a cool-down, a daily budget of automatic runs), and drives
 * every running run forward on a timer, one step at a time (loop-steps.ts), writing the record
 * after each change. Runs live in the store, so a restarted server (or the next leader) carries
 * on with them. Every automatic step is in the audit log under `system`, naming the policy.
 */
import { RegistryError } from '../registry/model-registry.js';
import type { IncidentEvent } from '../monitoring/monitoring-events.js';
import type { LoopPolicy, LoopRun, LoopRunTrigger } from '@edgeloop/protocol/rest';
import type { LoopDeps } from './loop-ports.js';
import { currentStep, endRun, newLoopRun } from './loop-run-record.js';
import { advance, SYSTEM } from './loop-steps.js';

const DAY = 86_400_000;
const DEFAULT_TICK_MS = 2000;
/** Steps one run may take in one go (data → train start, gate → register → rollout start…). */
const STEPS_PER_TURN = 6;
/** Unexpected errors in a row (a broken store, a bug) before a run fails instead of retrying. */
const MAX_STEP_ERRORS = 5;

export class LoopEngine {
  private timer: NodeJS.Timeout | undefined;
  private readonly driving = new Map<string, Promise<void>>();
  private readonly errors = new Map<string, number>();
  private controller = new AbortController();
  private ticking: Promise<void> | undefined;
  private running = false;

  constructor(private readonly deps: LoopDeps) {}

  private readonly onIncident = (e: IncidentEvent): void => {
    if (e.change !== 'opened') return;
    void this.fromIncident(e).catch((err: Error) =>
      this.deps.log.error({ err: err.message, incident: e.incident.id }, 'loop trigger failed'),
    );
  };

  start(): void {
    if (this.running) return;
    this.running = true;
    this.controller = new AbortController();
    this.deps.events.on('monitoring.incident', this.onIncident);
    this.timer = setInterval(() => void this.tick(), this.deps.tickMs ?? DEFAULT_TICK_MS);
    this.timer.unref();
    void this.tick();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.deps.events.off('monitoring.incident', this.onIncident);
    clearInterval(this.timer);
    this.controller.abort();
    await this.ticking;
    await Promise.allSettled([...this.driving.values()]);
  }

  /** Drives every running run one turn and checks the schedule and data triggers. */
  tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = (async () => {
      try {
        for (const run of await this.deps.runs.listRuns({ state: 'running', limit: 500 })) this.drive(run.id);
        await this.timedTriggers();
      } catch (err) {
        this.deps.log.error({ err: (err as Error).message }, 'loop tick failed; trying again on the next');
      }
    })().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  /** Resolves when every run this process is driving has finished its current turn (tests). */
  async settled(): Promise<void> {
    await this.ticking;
    await Promise.allSettled([...this.driving.values()]);
  }

  private drive(id: string): void {
    if (this.driving.has(id) || !this.running) return;
    const turn = this.turn(id).finally(() => this.driving.delete(id));
    this.driving.set(id, turn);
  }

  private async turn(id: string): Promise<void> {
    const { deps } = this;
    let run = await deps.runs.getRun(id);
    for (let i = 0; run && run.state === 'running' && i < STEPS_PER_TURN && this.running; i++) {
      let next: LoopRun;
      try {
        next = await advance(run, { deps, signal: this.controller.signal });
        this.errors.delete(id);
      } catch (err) {
        if (this.controller.signal.aborted) return; // stopping: the run carries on after the restart
        next = await this.onStepError(run, err as Error);
      }
      await deps.runs.updateRun(next);
      await this.recordProgress(run, next);
      const moved = currentStep(next) !== currentStep(run) || next.state !== run.state;
      run = next;
      if (!moved) break;
    }
  }

  private async onStepError(run: LoopRun, err: Error): Promise<LoopRun> {
    const now = this.deps.now();
    // A refusal (the registry, the rollout engine, training said no, with a reason) ends the run.
    if (err instanceof RegistryError && err.status < 500)
      return endRun(run, 'failed', `${run.step}: ${err.message}`, now);
    const count = (this.errors.get(run.id) ?? 0) + 1;
    this.errors.set(run.id, count);
    this.deps.log.warn({ run: run.id, step: run.step, err: err.message, attempt: count }, 'loop step failed');
    if (count < MAX_STEP_ERRORS) return run;
    this.errors.delete(run.id);
    return endRun(run, 'failed', `${run.step} failed ${count} times in a row: ${err.message}`, now);
  }

  /** One audit entry per finished step and per finished run, under `system` and the policy. */
  private async recordProgress(before: LoopRun, after: LoopRun): Promise<void> {
    for (const s of after.steps) {
      const was = before.steps.find((b) => b.name === s.name)!;
      if (was.finishedAt === null && s.finishedAt !== null && s.name !== 'trigger')
        await this.deps.audit.record(SYSTEM, `loop.${s.name}`, after.id, {
          policy: after.model,
          status: s.status,
          outcome: s.outcome,
        });
    }
    if (before.state === 'running' && after.state !== 'running') {
      await this.deps.audit.record(SYSTEM, 'loop.end', after.id, {
        policy: after.model,
        state: after.state,
        reason: after.reason,
        version: after.version,
      });
      this.deps.log.info(
        { run: after.id, model: after.model, state: after.state, reason: after.reason, version: after.version },
        'loop run finished',
      );
    }
  }

  private async fromIncident({ incident }: IncidentEvent): Promise<void> {
    const policy = await this.deps.policy(incident.model);
    if (!policy?.enabled) return;
    const wanted = policy.triggers.some(
      (t) =>
        t.kind === 'incident' &&
        (!t.rules || t.rules.includes(incident.rule)) &&
        (!t.severities || t.severities.includes(incident.severity)),
    );
    if (!wanted) return;
    // A retired version's last minutes stay in the rule windows after it stops serving: what
    // they show is no reason to retrain the version that replaced it.
    const serving = await this.championOf(incident.model);
    if (serving !== null && incident.version < serving) {
      const why = `${incident.model} v${incident.version} no longer serves (v${serving} does)`;
      this.deps.log.info({ incident: incident.id, why }, 'loop trigger skipped');
      await this.deps.audit.record(SYSTEM, 'loop.skip', incident.model, {
        policy: incident.model,
        trigger: 'incident',
        incident: incident.id,
        why,
      });
      return;
    }
    const onset = Math.min(...incident.members.map((m) => m.since), incident.openedAt);
    await this.begin(
      policy,
      {
        kind: 'incident',
        actor: SYSTEM,
        at: this.deps.now(),
        incidentId: incident.id,
        rule: incident.rule,
        onset,
        devices: [...incident.devices],
        reason: null,
      },
      { automatic: true, force: false, champion: incident.version },
    );
  }

  private readonly lastTimed = new Map<string, number>();

  /** Schedule and data triggers, checked every tick against the last run of each model. */
  private async timedTriggers(): Promise<void> {
    const now = this.deps.now();
    for (const policy of await this.deps.policies()) {
      if (!policy.enabled) continue;
      const last = (await this.deps.runs.listRuns({ model: policy.model, limit: 1 }))[0];
      const since = last?.createdAt ?? this.lastTimed.get(policy.model);
      if (since === undefined) {
        // No run yet: schedules and data counts start now.
        this.lastTimed.set(policy.model, now);
        continue;
      }
      for (const t of policy.triggers) {
        let reason: string | undefined;
        if (t.kind === 'schedule' && now - since >= t.everyMs)
          reason = `scheduled every ${Math.round(t.everyMs / 60_000)} min`;
        if (t.kind === 'data') {
          const fresh = await this.deps.data.newSamplesSince(policy.model, since);
          if (fresh >= t.minNewSamples) reason = `${fresh} new labelled samples (policy: ${t.minNewSamples})`;
        }
        if (!reason) continue;
        const started = await this.begin(
          policy,
          { kind: t.kind, actor: SYSTEM, at: now, incidentId: null, rule: null, onset: null, devices: [], reason },
          { automatic: true, force: false },
        );
        // A guard said no: count the wait from now, so it is not asked again every tick.
        if (!started) this.lastTimed.set(policy.model, now);
        break;
      }
    }
  }

  /** Starts a run within the guards; undefined (automatic) or a RegistryError (manual) when a guard refuses. */
  private async begin(
    policy: LoopPolicy,
    trigger: LoopRunTrigger,
    o: { automatic: boolean; force: boolean; champion?: number },
  ): Promise<LoopRun | undefined> {
    const { deps } = this;
    const now = deps.now();
    const refuse = async (status: 409, why: string): Promise<undefined> => {
      if (!o.automatic) throw new RegistryError(status, why);
      deps.log.info(
        { model: policy.model, trigger: trigger.kind, incident: trigger.incidentId, why },
        'loop trigger skipped',
      );
      await deps.audit.record(SYSTEM, 'loop.skip', policy.model, {
        policy: policy.model,
        trigger: trigger.kind,
        incident: trigger.incidentId,
        why,
      });
      return undefined;
    };
    const busy = await deps.runs.runningRun(policy.model);
    if (busy)
      return refuse(
        409,
        `loop run ${busy.id} of ${policy.model} is running (step ${busy.step}); one retraining per model at a time — wait for it or cancel it (edgeloop loop cancel ${busy.id})`,
      );
    if (!o.force) {
      const last = await deps.runs.lastFinished(policy.model);
      const left = last?.finishedAt != null ? policy.guards.cooldownMs - (now - last.finishedAt) : 0;
      if (left > 0)
        return refuse(
          409,
          `${policy.model} is in its cool-down for ${Math.ceil(left / 1000)} s more after loop run ${last!.id}; pass force to start anyway`,
        );
      if (o.automatic) {
        const today = await deps.runs.countAutomaticSince(policy.model, now - DAY);
        if (today >= policy.guards.maxRunsPerDay)
          return refuse(409, `${policy.model} had ${today} automatic runs in 24 h, its budget (guards.maxRunsPerDay)`);
      }
    }
    const champion = o.champion ?? (await this.championOf(policy.model));
    const run = newLoopRun(policy, trigger, champion, now);
    if (!(await deps.runs.startRun(run))) return refuse(409, `another loop run of ${policy.model} started just now`);
    await deps.audit.record(trigger.actor, 'loop.start', run.id, {
      policy: policy.model,
      trigger: trigger.kind,
      incident: trigger.incidentId,
      rule: trigger.rule,
      champion,
      reason: trigger.reason,
    });
    deps.log.info(
      { run: run.id, model: run.model, trigger: trigger.kind, incident: trigger.incidentId },
      'loop run started',
    );
    this.drive(run.id);
    return run;
  }

  /** The version serving now: the last completed rollout's, else the newest registered. */
  private async championOf(model: string): Promise<number | null> {
    const done = await this.deps.rollouts.store.list({ model, state: 'completed', limit: 1 });
    if (done[0]) return done[0].version;
    const latest = await this.deps.store.models.latestVersion(model);
    return latest > 0 ? latest : null;
  }

  /** A manual run (API, CLI, console): 404 without a policy; 409 while one runs, or in the cool-down unless forced. */
  async trigger(model: string, req: { reason?: string | undefined; force: boolean }, actor: string): Promise<LoopRun> {
    const policy = await this.deps.policy(model);
    if (!policy)
      throw new RegistryError(404, `${model} has no retraining policy; set one with edgeloop loop policy set FILE`);
    const run = await this.begin(
      policy,
      {
        kind: 'manual',
        actor,
        at: this.deps.now(),
        incidentId: null,
        rule: null,
        onset: null,
        devices: [],
        reason: req.reason ?? null,
      },
      { automatic: false, force: req.force },
    );
    return run!;
  }

  /** Stops a run; a training job it started is cancelled, a rollout it started carries on (abort it separately). */
  async cancel(id: string, reason: string | undefined, actor: string): Promise<LoopRun> {
    const { deps } = this;
    const run = await deps.runs.getRun(id);
    if (!run) throw new RegistryError(404, `no loop run ${id}; edgeloop loop list shows them`);
    if (run.state !== 'running') throw new RegistryError(409, `loop run ${id} has already ended (${run.state})`);
    await this.driving.get(id);
    if (run.trainingJobId) {
      const job = await deps.store.training.getJob(run.trainingJobId);
      if (job && (job.status === 'queued' || job.status === 'running'))
        await deps.training.cancel(job.id, actor).catch(() => undefined);
    }
    const fresh = (await deps.runs.getRun(id)) ?? run;
    const why = `cancelled by ${actor}${reason ? `: ${reason}` : ''}${fresh.rolloutId ? `; rollout ${fresh.rolloutId} carries on (edgeloop rollouts abort ${fresh.rolloutId} stops it)` : ''}`;
    const ended = endRun(fresh, 'cancelled', why, deps.now());
    await deps.runs.updateRun(ended);
    await deps.audit.record(actor, 'loop.cancel', id, { policy: run.model, reason: reason ?? null });
    return ended;
  }
}
