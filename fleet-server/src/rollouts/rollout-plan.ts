/**
 * @module rollouts/rollout-plan
 * What a create-rollout request means before anything is written: the request checked against
 * the registry and the parameters' strategy, the target's devices in rollout order (online first,
 * then by id), which of them are eligible and which are skipped (already on the candidate or
 * newer, or nothing to shadow), the concrete waves with the devices each gets, and the baseline
 * version. The engine creates a rollout from exactly this plan, and the preview route answers it,
 * so a preview shows the waves that create would start with.
 */
import type { RolloutPreview } from '@edgeloop/protocol';
import { RegistryError } from '../registry/model-registry.js';
import type { FleetStore } from '../store/fleet-store.js';
import type { CreateRollout } from './rollout-params.js';
import { isRevoked, selectTargets } from './rollout-ports.js';
import type { RolloutStore } from './rollout-store.js';
import { planForStrategy, waveOf, type Wave } from './wave-plan.js';

export interface RolloutPlan {
  role: 'serve' | 'shadow';
  /** Devices that get the candidate, in rollout order, with what they served before. */
  eligible: Array<{ id: string; previous: number | null }>;
  skipped: Array<{ id: string; previous: number | null; reason: string }>;
  waves: Wave[];
  baselineVersion: number | null;
}

/**
 * Checks the request and plans it; throws RegistryError (404 unknown version, 409 revoked, 400
 * a parameter the strategy does not take or a target without eligible devices) saying what to do.
 * Does not check for another active rollout of the model (see {@link activeConflict}).
 */
export async function planRollout(store: FleetStore, rollouts: RolloutStore, req: CreateRollout): Promise<RolloutPlan> {
  const { model, version, strategy, parameters: p } = req;
  if (!(await store.models.get(model, version))) {
    const latest = await store.models.latestVersion(model);
    throw new RegistryError(
      404,
      latest
        ? `${model} has no v${version} (latest is v${latest})`
        : `no model named "${model}"; push it first (edgeloop models push)`,
    );
  }
  if (await isRevoked(store.models, model, version))
    throw new RegistryError(409, `${model} v${version} is revoked and cannot be rolled out; push a fixed version`);
  if (p.waves && !['staged', 'canary'].includes(strategy))
    throw new RegistryError(400, `waves apply to staged and canary rollouts, not ${strategy}`);
  if (p.canary && strategy !== 'canary')
    throw new RegistryError(400, `canary settings apply to canary rollouts, not ${strategy}`);
  if (p.promoteTo && strategy !== 'shadow') throw new RegistryError(400, 'promoteTo applies to shadow rollouts only');
  const role = strategy === 'shadow' ? 'shadow' : 'serve';
  const ids = await selectTargets(store.devices, req.target);
  if (ids.length === 0) throw new RegistryError(400, 'the target selects no devices; check it with edgeloop devices');
  const presence = await rollouts.presence(model, ids);
  const assignments = await rollouts.assignments(model, ids);
  // Online devices first: the first wave should not wait on devices that cannot download.
  const ordered = [...ids].sort(
    (a, b) =>
      Number(presence.get(b)?.online ?? false) - Number(presence.get(a)?.online ?? false) ||
      (a < b ? -1 : a > b ? 1 : 0),
  );
  const eligible: RolloutPlan['eligible'] = [];
  const skipped: RolloutPlan['skipped'] = [];
  for (const id of ordered) {
    const running = presence.get(id)?.running ?? null;
    const a = assignments.get(id);
    const previous = running ?? (a?.state === 'active' ? a.version : null);
    if (previous !== null && previous >= version) skipped.push({ id, previous, reason: `already serves v${previous}` });
    else if (a && a.version > version) skipped.push({ id, previous, reason: `assigned the newer v${a.version}` });
    else if (role === 'shadow' && previous === null)
      skipped.push({ id, previous, reason: `serves no version of ${model} to compare the shadow with` });
    else eligible.push({ id, previous });
  }
  if (eligible.length === 0)
    throw new RegistryError(
      400,
      `no device of the target can take ${model} v${version}: ${skipped
        .slice(0, 3)
        .map((s) => `${s.id} ${s.reason}`)
        .join('; ')}`,
    );

  const waves = planForStrategy(strategy, p, eligible.length);
  const counts = new Map<number, number>();
  for (const e of eligible) if (e.previous !== null) counts.set(e.previous, (counts.get(e.previous) ?? 0) + 1);
  const baselineVersion = [...counts.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0] ?? null;
  return { role, eligible, skipped, waves, baselineVersion };
}

/** Why create would refuse now: another rollout of the model is still running or paused. */
export async function activeConflict(rollouts: RolloutStore, model: string): Promise<string | null> {
  const active = await rollouts.activeFor(model);
  return active
    ? `rollout ${active.id} of ${model} v${active.version} is still ${active.state}; finish, abort or roll it back first`
    : null;
}

/** The plan as the preview route answers it: every wave with its devices. */
export function previewOf(req: CreateRollout, plan: RolloutPlan, blocked: string | null): RolloutPreview {
  const byWave = plan.waves.map(() => [] as string[]);
  plan.eligible.forEach((e, i) => byWave[waveOf(plan.waves, i)]?.push(e.id));
  return {
    model: req.model,
    version: req.version,
    strategy: req.strategy,
    role: plan.role,
    baselineVersion: plan.baselineVersion,
    devices: plan.eligible.length,
    waves: plan.waves.map((w, index) => ({
      index,
      size: w.size,
      cumulative: w.cumulative,
      waitMs: w.waitMs,
      devices: byWave[index] ?? [],
    })),
    skipped: plan.skipped.map((s) => ({ deviceId: s.id, previousVersion: s.previous, reason: s.reason })),
    holds: req.strategy === 'ab' || req.strategy === 'shadow',
    blocked,
  };
}
