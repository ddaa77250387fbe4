/**
 * @module rollouts/rollout-engine
 * One engine for every strategy. On each tick (default 1 s) it reads each active rollout from the
 * database, derives every device's state from the assignment rows the agents' update reports
 * move, judges the gates (rollout-evaluation.ts) and then does at most the next step: pause or
 * roll back on a tripped gate, give pending devices of the current wave the candidate (at most
 * maxConcurrentDownloads in flight), advance, hold (ab, shadow) or complete. Everything it needs
 * is in the fleet store, so a restarted server simply carries on.
 *
 * Operator actions (create, pause, resume, abort, rollback, promote) and ticks run one at a
 * time through one queue, so a decision never interleaves with another.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { RolloutDeviceState, RolloutPreview } from '@edgeloop/protocol';
import { RegistryError, type ModelRegistry } from '../registry/model-registry.js';
import type { FleetStore } from '../store/fleet-store.js';
import { deriveDeviceState, ENGINE_OWNED, setState, type AssignmentFact } from './device-state.js';
import { evaluate, type Trip } from './rollout-evaluation.js';
import { LiveErrorQueries } from './live-error.js';
import type { CreateRollout } from './rollout-params.js';
import { isRevoked, rereleaseVersion, type AuditPort, type DeploymentsPort } from './rollout-ports.js';
import { activeConflict, planRollout, previewOf } from './rollout-plan.js';
import { RolloutStore, type Rollout, type RolloutDevice } from './rollout-store.js';
import { waveOf } from './wave-plan.js';
import { RolloutActions, SYSTEM, type OperatorVerb } from './rollout-actions.js';

export interface RolloutEngineDeps {
  store: FleetStore;
  registry: ModelRegistry;
  deployments: DeploymentsPort;
  audit: AuditPort;
  log: Logger;
  tickMs: number;
  /**
   * Runs each decision in the cluster's turn (FleetStore.cluster.decisionTurn), so the leader's
   * tick and an operator action served by another server never interleave. Default: this queue only.
   */
  turn?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export class RolloutEngine {
  readonly store: RolloutStore;
  readonly queries: LiveErrorQueries;
  readonly actions: RolloutActions;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(readonly deps: RolloutEngineDeps) {
    this.store = new RolloutStore(deps.store);
    this.queries = new LiveErrorQueries(deps.store);
    this.actions = new RolloutActions({
      store: this.store,
      models: deps.store.models,
      deployments: deps.deployments,
      audit: deps.audit,
      log: deps.log,
      rerelease: (model, fromVersion, rolloutId) => rereleaseVersion(deps.registry, model, fromVersion, rolloutId),
    });
  }

  /** Runs `fn` after everything queued before it; the queue survives a failing step. */
  serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const turn = this.deps.turn;
    const inTurn = turn ? () => turn(async () => fn()) : fn;
    const run = this.queue.then(inTurn, inTurn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      void this.serial(() => this.tick()).finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.deps.tickMs);
      });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.queue;
  }

  /** One pass over every rollout with work to do. Public for tests (call through serial()). */
  async tick(now = Date.now()): Promise<void> {
    for (const r of await this.store.workList()) {
      try {
        await this.step(r, now);
      } catch (err) {
        this.deps.log.error({ err, rollout: r.id }, 'rollout step failed; retrying on the next tick');
      }
    }
  }

  create(req: CreateRollout, actor: string, now = Date.now()): Promise<Rollout> {
    return this.serial(async () => {
      const r = await this.plan(req, actor, now);
      await this.deps.audit.record(actor, 'rollout.create', r.id, {
        model: r.model,
        version: r.version,
        strategy: r.strategy,
        target: r.target,
        devices: r.waves.at(-1)?.cumulative ?? 0,
        reason: req.reason ?? null,
      });
      this.deps.log.info(
        { rollout: r.id, model: r.model, version: r.version, strategy: r.strategy },
        'rollout created',
      );
      await this.step(r, now);
      return (await this.store.get(r.id))!;
    });
  }

  /** An operator action by rollout id, queued like every decision; throws 404/409 with what to do instead. */
  operate(
    verb: OperatorVerb,
    id: string,
    actor: string,
    reason: string | undefined,
    now = Date.now(),
  ): Promise<Rollout> {
    return this.serial(async () => {
      const r = await this.store.get(id);
      if (!r) throw new RegistryError(404, `no rollout "${id}"; edgeloop rollouts list shows them`);
      const devs = await this.refresh(r, now);
      await this.actions.apply(verb, r, devs, actor, reason, now);
      return (await this.store.get(id))!;
    });
  }

  /** What create would do with `req` now, without doing it (POST /api/v1/rollouts/preview). */
  async preview(req: CreateRollout): Promise<RolloutPreview> {
    const plan = await planRollout(this.deps.store, this.store, req);
    return previewOf(req, plan, await activeConflict(this.store, req.model));
  }

  private async plan(req: CreateRollout, actor: string, now: number): Promise<Rollout> {
    const { model, version, strategy, parameters: p } = req;
    const { role, eligible, skipped, waves, baselineVersion } = await planRollout(this.deps.store, this.store, req);
    const blocked = await activeConflict(this.store, model);
    if (blocked) throw new RegistryError(409, blocked);
    const id = `ro-${randomBytes(4).toString('hex')}`;
    const r: Rollout = {
      id,
      model,
      version,
      baselineVersion,
      strategy,
      role,
      target: req.target,
      params: p,
      waves,
      state: 'running',
      reason: req.reason ?? null,
      createdBy: actor,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
      currentWave: 0,
      holding: false,
      promotedAt: null,
      judgedSince: now,
      rollbackVersions: {},
    };
    const devices: RolloutDevice[] = [
      ...eligible.map((e, i) => row(id, e.id, waveOf(waves, i), i, 'pending', e.previous, null, now)),
      ...skipped.map((s, j) => row(id, s.id, -1, eligible.length + j, 'skipped', s.previous, s.reason, now)),
    ];
    if (!(await this.store.insert(r, devices)))
      throw new RegistryError(409, `another rollout of ${model} started at the same time; see edgeloop rollouts list`);
    return r;
  }

  /** Re-derives device states, then takes at most one decision for the rollout. */
  async step(r: Rollout, now: number): Promise<void> {
    const devs = await this.refresh(r, now);
    if (r.state === 'rolled-back' || r.state === 'aborted') return this.actions.returnDevices(r, devs, now);
    if (r.state !== 'running') return;
    if (await isRevoked(this.deps.store.models, r.model, r.version)) {
      return this.actions.finish(r, 'aborted', SYSTEM, `${r.model} v${r.version} was revoked`, {}, now);
    }
    const e = await evaluate(
      r,
      devs,
      await this.store.presence(
        r.model,
        devs.map((d) => d.deviceId),
      ),
      this.queries,
      now,
    );
    if (e.trip) return this.onTrip(r, devs, e.trip, now);
    await this.assignPending(r, devs, now);
    if (!e.waveDone) return;

    const cw = r.currentWave;
    const wave = r.waves[cw]!;
    const numbers = {
      wave: cw + 1,
      ...e.tallies[cw],
      liveError: { candidate: e.liveError.candidate, baseline: e.liveError.baseline, ratio: e.liveError.verdict.ratio },
    };
    const hold = (r.strategy === 'ab' || r.strategy === 'shadow') && r.promotedAt === null && cw === r.waves.length - 1;
    if (hold) {
      if (r.holding) return;
      wave.passedAt = now;
      r.holding = true;
      r.updatedAt = now;
      await this.store.update(r);
      await this.deps.audit.record(SYSTEM, 'rollout.hold', r.id, {
        ...numbers,
        note: 'candidate at its share; promote or abort',
      });
      return;
    }
    if (cw === r.waves.length - 1) {
      if (e.inProgress > 0) return;
      wave.passedAt = now;
      return this.actions.finish(r, 'completed', SYSTEM, `all ${r.waves.length} wave(s) passed`, numbers, now);
    }
    wave.passedAt = now;
    r.currentWave = cw + 1;
    r.updatedAt = now;
    await this.store.update(r);
    await this.deps.audit.record(SYSTEM, 'rollout.advance', r.id, { ...numbers, next: cw + 2 });
    this.deps.log.info({ rollout: r.id, wave: cw + 2 }, 'rollout advanced');
    await this.assignPending(r, await this.store.devices(r.id), now);
  }

  private async onTrip(r: Rollout, devs: RolloutDevice[], trip: Trip, now: number): Promise<void> {
    this.deps.log.warn(
      { rollout: r.id, gate: trip.gate, action: trip.action, reason: trip.reason },
      'rollout gate tripped',
    );
    const details = { gate: trip.gate, ...trip.numbers };
    if (trip.action === 'pause') return this.actions.pause(r, SYSTEM, trip.reason, details, now);
    return this.actions.rollback(r, devs, SYSTEM, trip.reason, details, now);
  }

  /** Derives and stores each device's state; returns the rows as they are now. */
  async refresh(r: Rollout, now: number): Promise<RolloutDevice[]> {
    const devs = await this.store.devices(r.id);
    const ids = devs.map((d) => d.deviceId);
    const assignments = await this.assignmentsOf(r, ids);
    const presence = await this.store.presence(r.model, ids);
    for (const d of devs) {
      if (ENGINE_OWNED.has(d.state)) continue;
      const next = deriveDeviceState(
        {
          stored: d.state,
          assignedAt: d.assignedAt,
          activeSince: d.times.active,
          assignment: assignments.get(d.deviceId),
          online: presence.get(d.deviceId)?.online ?? false,
        },
        r.version,
        now,
        r.params,
      );
      if (next.state === d.state && next.reason === d.reason) continue;
      // Reaching healthy in one step still records when the device became active.
      if (next.state === 'healthy' && d.times.active === undefined) d.times = { ...d.times, active: now };
      if (next.state !== d.state) setState(d, next.state, now);
      d.reason = next.reason;
      await this.store.updateDevice(d);
    }
    return devs;
  }

  /** Gives pending devices of the started waves the candidate, keeping downloads under the cap. */
  private async assignPending(r: Rollout, devs: RolloutDevice[], now: number): Promise<void> {
    const inFlight = devs.filter((d) => d.state === 'assigned' || d.state === 'downloading').length;
    let slots = r.params.maxConcurrentDownloads - inFlight;
    const pending = devs.filter((d) => d.state === 'pending' && d.wave <= r.currentWave);
    if (pending.length === 0 || slots <= 0) return;
    const ids = pending.map((d) => d.deviceId);
    const presence = await this.store.presence(r.model, ids);
    const assignments = await this.assignmentsOf(r, ids);
    for (const d of pending) {
      if (slots <= 0) break;
      const wave = r.waves[d.wave];
      if (wave && wave.startedAt === null) {
        wave.startedAt = now;
        r.updatedAt = now;
        await this.store.update(r);
      }
      const running = presence.get(d.deviceId)?.running;
      if (running !== undefined && running !== null && running >= r.version && r.role === 'serve') {
        setState(d, 'skipped', now);
        d.reason = `already serves v${running}`;
        await this.store.updateDevice(d);
        continue;
      }
      if (running !== undefined && running !== null) d.previousVersion = running;
      // A crash between assigning and recording it leaves the assignment in place: adopt it.
      if (assignments.get(d.deviceId)?.version !== r.version) {
        try {
          await this.deps.deployments.assign(r.model, r.version, [d.deviceId], { role: r.role });
        } catch (err) {
          setState(d, 'skipped', now);
          d.reason = `could not assign: ${(err as Error).message}`;
          await this.store.updateDevice(d);
          continue;
        }
      }
      d.assignedAt = now;
      setState(d, 'assigned', now);
      d.reason = null;
      await this.store.updateDevice(d);
      slots--;
    }
  }

  /** The assignment rows the candidate's progress is read from: serve, or shadow. */
  private assignmentsOf(r: Rollout, ids: readonly string[]): Promise<Map<string, AssignmentFact>> {
    return r.role === 'shadow' ? this.store.shadowAssignments(r.model, ids) : this.store.assignments(r.model, ids);
  }
}

function row(
  rolloutId: string,
  deviceId: string,
  wave: number,
  position: number,
  state: RolloutDeviceState,
  previous: number | null,
  reason: string | null,
  now: number,
): RolloutDevice {
  return {
    rolloutId,
    deviceId,
    wave,
    position,
    state,
    previousVersion: previous,
    assignedAt: null,
    stateAt: now,
    times: { [state]: now },
    reason,
    acknowledged: false,
  };
}
