/**
 * @module loop/resolve-step
 * The loop's last step: once the new version is active, the triggering rule must stay clear on it
 * for the policy's settle time (data time); then the incident resolves naming the loop run and
 * the version that fixed it, and so do open incidents of earlier versions whose rule is clear.
 */
import type { LoopRun } from '@edgeloop/protocol/rest';
import type { LoopDeps } from './loop-ports.js';
import { endRun, finishStep, setStep, stepOf } from './loop-run-record.js';
import { fmtMs, SYSTEM, type StepContext } from './step-context.js';

/** How long the rule may keep firing on the new version, in settle periods, before the run fails. */
const SETTLE_PATIENCE = 3;

export async function resolveStep(run: LoopRun, { deps }: StepContext): Promise<LoopRun> {
  const now = deps.now();
  const t = run.trigger;
  if (!t.incidentId || !t.rule) {
    const done = finishStep(run, 'resolve', 'skipped', 'no incident to resolve', {}, now);
    return endRun(done, 'succeeded', null, now);
  }
  const step = stepOf(run, 'resolve');
  const since = step.startedAt ?? now;
  const firing = (
    await deps.store.monitoring.listAlerts({ rule: t.rule, model: run.model, state: 'firing', limit: 500 })
  ).filter((a) => a.version === run.version);
  const settle = run.policy.settleMs;
  if (firing.length > 0) {
    if (now - since > SETTLE_PATIENCE * settle)
      return endRun(
        run,
        'failed',
        `${t.rule} still fires on ${run.model} v${run.version} (${firing.map((a) => a.scope).join(', ')}); incident ${t.incidentId} stays open`,
        now,
      );
    return setStep(
      run,
      'resolve',
      'waiting',
      `${t.rule} fires on v${run.version} at ${firing.length} scope(s)`,
      {},
      now,
    );
  }
  if (now - since < settle)
    return setStep(
      run,
      'resolve',
      'waiting',
      `${t.rule} clear on v${run.version} for ${fmtMs(now - since)} of ${fmtMs(settle)}`,
      {},
      now,
    );
  const resolved = await resolveIncidents(run, deps, now);
  const done = finishStep(
    run,
    'resolve',
    'succeeded',
    `incident ${t.incidentId} resolved by ${run.model} v${run.version}${resolved.length > 1 ? ` (with ${resolved.length - 1} more of earlier versions)` : ''}`,
    { incidents: resolved },
    now,
  );
  return endRun(done, 'succeeded', null, now);
}

/** The triggering incident, and every other open incident of an earlier version whose rule is clear on the new one. */
async function resolveIncidents(run: LoopRun, deps: LoopDeps, now: number): Promise<string[]> {
  const version = run.version!;
  const by = (note: string) => ({ loopRunId: run.id, model: run.model, version, note });
  const out: string[] = [];
  if (
    await deps.incidents.resolveBy(
      run.trigger.incidentId!,
      by(`healed by ${run.model} v${version} (loop run ${run.id})`),
      now,
    )
  )
    out.push(run.trigger.incidentId!);
  const open = await deps.store.monitoring.listIncidents({ state: 'open', model: run.model, limit: 1000 });
  for (const incident of open) {
    if (incident.version >= version || incident.id === run.trigger.incidentId) continue;
    const stillFiring = await deps.store.monitoring.listAlerts({
      rule: incident.rule,
      model: run.model,
      state: 'firing',
      limit: 500,
    });
    if (stillFiring.some((a) => a.version === version)) continue;
    if (
      await deps.incidents.resolveBy(
        incident.id,
        by(`superseded: ${run.model} v${version} replaced v${incident.version} (loop run ${run.id})`),
        now,
      )
    )
      out.push(incident.id);
  }
  for (const id of out)
    await deps.audit.record(SYSTEM, 'incident.resolve', id, { policy: run.model, loopRun: run.id, version });
  return out;
}
