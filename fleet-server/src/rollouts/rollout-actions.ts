/**
 * @module rollouts/rollout-actions
 * What changes a rollout's state: the operator's pause, resume, abort, rollback and promote, and
 * the engine's own pause, rollback and finish. Each writes an audit entry (actor `system` with
 * the measured numbers for automatic decisions).
 *
 * - pause: stop assigning and advancing; device states keep being tracked.
 * - resume: carry on; failures present at that moment are acknowledged (no longer counted) and
 *   live error is judged on data from now on, so a resume is a deliberate "watch again".
 * - abort: stop; devices keep what they have (a shadow is removed: without its rollout it has no use).
 * - rollback: every device that was given the candidate goes back to what it served before.
 *   Devices refuse older versions (anti-rollback), so the previous version's artifact is
 *   re-released as a new version (lineage trigger "rollback", parent = that version) and
 *   assigned to exactly those devices; devices that never got the candidate are not touched.
 * - promote (ab, shadow): ab goes on to 100 %; shadow becomes a direct/staged/canary rollout.
 */
import { ROLLOUT_ACTIONS } from '@edgeloop/protocol';
import { RegistryError } from '../registry/model-registry.js';
import { isRevoked, type RolloutActionPorts } from './rollout-ports.js';
import { GIVEN, setState } from './device-state.js';
import type { Rollout, RolloutDevice } from './rollout-store.js';
import { extendToAll, planForStrategy, waveOf } from './wave-plan.js';

/** The actor of every automatic decision in the audit log. */
export const SYSTEM = 'system';

export const OPERATOR_VERBS = ROLLOUT_ACTIONS;
export type OperatorVerb = (typeof OPERATOR_VERBS)[number];

export class RolloutActions {
  constructor(private readonly ports: RolloutActionPorts) {}

  private get store() {
    return this.ports.store;
  }

  /** An operator verb on a rollout read and refreshed by the engine; throws 409 with what to do instead. */
  async apply(
    verb: OperatorVerb,
    r: Rollout,
    devs: RolloutDevice[],
    actor: string,
    reason: string | undefined,
    now: number,
  ): Promise<void> {
    const why = reason ?? `by ${actor}`;
    const details = { reason: reason ?? null, model: r.model, version: r.version };
    switch (verb) {
      case 'pause':
        if (r.state !== 'running') throw conflict(r, 'pause', 'only a running rollout can be paused');
        return this.pause(r, actor, why, details, now);
      case 'resume':
        if (r.state !== 'paused') throw conflict(r, 'resume', 'only a paused rollout can be resumed');
        return this.resume(r, devs, actor, reason ?? null, details, now);
      case 'abort':
        if (r.state !== 'running' && r.state !== 'paused')
          throw conflict(r, 'abort', 'only a running or paused rollout can be aborted');
        await this.finish(r, 'aborted', actor, why, details, now);
        return this.returnDevices(r, devs, now);
      case 'rollback': {
        if (r.state === 'rolled-back') throw conflict(r, 'rollback', 'it is already rolled back');
        const active = await this.store.activeFor(r.model);
        if (active && active.id !== r.id)
          throw conflict(r, 'rollback', `rollout ${active.id} of ${r.model} is ${active.state}; abort it first`);
        return this.rollback(r, devs, actor, why, details, now);
      }
      case 'promote':
        if (r.state !== 'running' && r.state !== 'paused')
          throw conflict(r, 'promote', 'only a running or paused rollout can be promoted');
        return this.promote(r, devs, actor, details, now);
    }
  }

  async pause(r: Rollout, actor: string, reason: string, details: Record<string, unknown>, now: number): Promise<void> {
    r.state = 'paused';
    r.reason = reason;
    r.updatedAt = now;
    await this.store.update(r);
    await this.ports.audit.record(actor, 'rollout.pause', r.id, { reason, ...details });
  }

  private async resume(
    r: Rollout,
    devs: RolloutDevice[],
    actor: string,
    reason: string | null,
    details: Record<string, unknown>,
    now: number,
  ): Promise<void> {
    let acknowledged = 0;
    for (const d of devs) {
      if (!d.acknowledged && (d.state === 'failed' || d.state === 'rejected' || d.state === 'timed-out')) {
        d.acknowledged = true;
        await this.store.updateDevice(d);
        acknowledged++;
      }
    }
    r.state = 'running';
    r.reason = reason;
    r.judgedSince = now;
    r.updatedAt = now;
    await this.store.update(r);
    await this.ports.audit.record(actor, 'rollout.resume', r.id, { ...details, acknowledgedFailures: acknowledged });
  }

  async finish(
    r: Rollout,
    state: 'completed' | 'aborted',
    actor: string,
    reason: string,
    details: Record<string, unknown>,
    now: number,
  ): Promise<void> {
    r.state = state;
    r.reason = reason;
    r.holding = false;
    r.finishedAt = now;
    r.updatedAt = now;
    await this.store.update(r);
    await this.ports.audit.record(actor, state === 'completed' ? 'rollout.complete' : 'rollout.abort', r.id, {
      reason,
      ...details,
    });
    this.ports.log.info({ rollout: r.id, state, reason }, `rollout ${state}`);
  }

  async rollback(
    r: Rollout,
    devs: RolloutDevice[],
    actor: string,
    reason: string,
    details: Record<string, unknown>,
    now: number,
  ): Promise<void> {
    r.state = 'rolled-back';
    r.reason = reason;
    r.holding = false;
    r.finishedAt = now;
    r.updatedAt = now;
    await this.store.update(r);
    const given = devs.filter((d) => GIVEN.has(d.state)).length;
    await this.ports.audit.record(actor, 'rollout.rollback', r.id, { reason, devicesToReturn: given, ...details });
    this.ports.log.warn({ rollout: r.id, reason, devices: given }, 'rolling back');
    await this.returnDevices(r, devs, now);
  }

  /**
   * Returns every device still holding the candidate (idempotent: the engine calls it on each
   * tick until none is left, so a crash half-way is finished after the restart).
   */
  async returnDevices(r: Rollout, devs: RolloutDevice[], now: number): Promise<void> {
    const given = devs.filter((d) => GIVEN.has(d.state));
    if (given.length === 0) return;
    if (r.role === 'shadow') {
      await this.ports.deployments.removeShadow(
        r.model,
        given.map((d) => d.deviceId),
      );
      for (const d of given) await this.mark(d, 'shadow removed', now);
      return;
    }
    if (r.state !== 'rolled-back') return;
    const byPrevious = new Map<number | null, RolloutDevice[]>();
    for (const d of given) byPrevious.set(d.previousVersion, [...(byPrevious.get(d.previousVersion) ?? []), d]);
    for (const [previous, group] of byPrevious) {
      // Nothing to go back to: no earlier version, or it was revoked since (never re-released).
      const revoked =
        previous !== null &&
        r.rollbackVersions[String(previous)] === undefined &&
        (await isRevoked(this.ports.models, r.model, previous));
      if (previous === null || revoked) {
        for (const d of group) {
          await this.store.removeAssignment(d.deviceId, r.model, r.version);
          await this.ports.deployments.publishDesired(d.deviceId);
          await this.mark(
            d,
            revoked
              ? `v${r.version} removed (the previous v${previous} is revoked)`
              : `v${r.version} removed (the device served no version of ${r.model} before)`,
            now,
          );
        }
        continue;
      }
      let target = r.rollbackVersions[String(previous)];
      if (target === undefined) {
        const row = await this.ports.rerelease(r.model, previous, r.id);
        target = row.version;
        r.rollbackVersions[String(previous)] = target;
        r.updatedAt = now;
        await this.store.update(r);
        await this.ports.audit.record(SYSTEM, 'rollout.rerelease', r.id, {
          model: r.model,
          from: previous,
          as: target,
          sha256: row.sha256,
          trigger: 'rollback',
        });
      }
      for (const d of group) {
        await this.ports.deployments.assign(r.model, target, [d.deviceId]);
        await this.mark(d, `back on v${previous}'s artifact, re-released as v${target}`, now);
      }
    }
  }

  private async mark(d: RolloutDevice, reason: string, now: number): Promise<void> {
    setState(d, 'rolled-back', now);
    d.reason = reason;
    await this.store.updateDevice(d);
  }

  private async promote(
    r: Rollout,
    devs: RolloutDevice[],
    actor: string,
    details: Record<string, unknown>,
    now: number,
  ): Promise<void> {
    const eligible = devs.filter((d) => d.wave >= 0);
    if (r.strategy === 'ab' && r.promotedAt === null) {
      r.waves = extendToAll(r.waves, eligible.length, r.params.waitMs ?? r.waves[0]?.waitMs ?? 0);
    } else if (r.strategy === 'shadow' && r.promotedAt === null) {
      // Roll the candidate out for real. The shadows stay until each device's wave: assigning the
      // same version to serve drops the shadow and activates its already-downloaded artifact.
      const to = r.params.promoteTo ?? { strategy: 'direct' as const };
      r.strategy = to.strategy;
      r.role = 'serve';
      r.params = { ...r.params, ...(to.waves ? { waves: to.waves } : {}), ...(to.canary ? { canary: to.canary } : {}) };
      r.waves = planForStrategy(r.strategy, r.params, eligible.length);
      r.currentWave = 0;
      r.judgedSince = now;
      for (const d of eligible) {
        d.wave = waveOf(r.waves, d.position);
        d.assignedAt = null;
        d.acknowledged = false;
        d.times = {};
        setState(d, 'pending', now);
        d.reason = null;
        await this.store.updateDevice(d);
      }
    } else {
      throw conflict(
        r,
        'promote',
        r.promotedAt !== null ? 'it was promoted already' : 'promote applies to ab and shadow rollouts',
      );
    }
    r.promotedAt = now;
    r.holding = false;
    r.state = 'running';
    r.updatedAt = now;
    await this.store.update(r);
    await this.ports.audit.record(actor, 'rollout.promote', r.id, {
      ...details,
      strategy: r.strategy,
      waves: r.waves.length,
    });
  }
}

function conflict(r: Rollout, verb: string, why: string): RegistryError {
  return new RegistryError(409, `cannot ${verb} rollout ${r.id} (${r.state}): ${why}`);
}
