/**
 * @module loop/rollout-step
 * The loop's rollout step: the accepted version rolled out by the policy's strategy through the
 * rollout engine (whose gates roll it back by themselves), a shadow promoted once its live error
 * holds up against the serving version's, and the run ended by what the rollout came to. A
 * rollout created before a crash but not yet in the run's record is found by its version instead
 * of created twice.
 */
import { createRolloutSchema, type LoopRun } from '@edgeloop/protocol/rest';
import { detailView } from '../rollouts/rollout-view.js';
import type { LoopDeps } from './loop-ports.js';
import { endRun, finishStep, setStep, stepOf } from './loop-run-record.js';
import { fmtMs, SYSTEM, type StepContext } from './step-context.js';

export async function rolloutStep(run: LoopRun, { deps }: StepContext): Promise<LoopRun> {
  const now = deps.now();
  const spec = run.policy.rollout;
  const step = stepOf(run, 'rollout');
  if (!run.rolloutId) {
    // A rollout of this run's version already exists when the server died between creating it
    // and writing this record (or an operator rolled the version out): follow it, never start
    // a second one (it would be refused, or roll out again a version the first rolled back).
    const made = (await deps.rollouts.store.list({ model: run.model, limit: 50 })).find(
      (r) => r.version === run.version,
    );
    if (made)
      return {
        ...setStep(
          run,
          'rollout',
          'running',
          `${made.strategy} rollout ${made.id} of v${made.version} found; following it`,
          { rolloutId: made.id, strategy: made.strategy },
          now,
        ),
        rolloutId: made.id,
      };
    const active = await deps.rollouts.store.activeFor(run.model);
    if (active) {
      const since = step.startedAt ?? now;
      if (now - since > spec.shadow.timeoutMs)
        return endRun(
          run,
          'failed',
          `rollout ${active.id} of ${run.model} stayed ${active.state}; the loop could not roll out`,
          now,
        );
      return setStep(
        run,
        'rollout',
        'waiting',
        `rollout ${active.id} of ${run.model} is ${active.state}; waiting for it to end`,
        {},
        now,
      );
    }
    const r = await deps.rollouts.create(
      createRolloutSchema.parse({
        model: run.model,
        version: run.version,
        strategy: spec.strategy,
        target: spec.target,
        parameters: spec.parameters,
        reason: `loop run ${run.id}`,
      }),
      SYSTEM,
    );
    return {
      ...setStep(
        run,
        'rollout',
        'running',
        `${spec.strategy} rollout ${r.id} started`,
        { rolloutId: r.id, strategy: spec.strategy },
        now,
      ),
      rolloutId: r.id,
    };
  }
  const r = await deps.rollouts.store.get(run.rolloutId);
  if (!r) return endRun(run, 'failed', `rollout ${run.rolloutId} is gone from the store`, now);
  switch (r.state) {
    case 'completed':
      return finishStep(
        run,
        'rollout',
        'succeeded',
        `${run.model} v${run.version} is active on the target devices`,
        { completedAt: now },
        now,
      );
    case 'rolled-back':
      return endRun(
        run,
        'rolled-back',
        `rollout ${r.id} rolled ${run.model} v${run.version} back: ${r.reason ?? 'by its gates'}`,
        now,
      );
    case 'aborted':
      return endRun(run, 'failed', `rollout ${r.id} was aborted: ${r.reason ?? 'no reason given'}`, now);
  }
  if (r.role === 'shadow' && r.promotedAt === null) return watchShadow(run, r.id, step.startedAt ?? now, deps, now);
  const devs = await deps.rollouts.store.devices(r.id);
  const active = devs.filter((d) => d.state === 'active' || d.state === 'healthy').length;
  return setStep(
    run,
    'rollout',
    r.state === 'paused' ? 'waiting' : 'running',
    `rollout ${r.id} ${r.state}${r.reason && r.state === 'paused' ? ` (${r.reason})` : ''}: ${active} of ${devs.length} devices active`,
    {},
    now,
  );
}

/** A shadow is promoted once its live error holds up against the serving version's; past the timeout it is aborted. */
async function watchShadow(run: LoopRun, id: string, since: number, deps: LoopDeps, now: number): Promise<LoopRun> {
  const { shadow } = run.policy.rollout;
  const r = (await deps.rollouts.store.get(id))!;
  const view = await detailView(deps.rollouts, r);
  const { candidate, baseline } = view.liveError;
  const ratio = r.params.liveError.maxErrorRatio;
  const enough = candidate.records >= shadow.minRecords;
  const fine = enough && candidate.mae !== null && (baseline.mae === null || candidate.mae <= baseline.mae * ratio);
  const reading = `shadow MAE ${candidate.mae?.toFixed(2) ?? '–'} on ${candidate.records} records vs serving ${baseline.mae?.toFixed(2) ?? '–'}`;
  if (fine) {
    await deps.rollouts.operate('promote', id, SYSTEM, `loop run ${run.id}: ${reading}`);
    await deps.audit.record(SYSTEM, 'loop.promote', run.id, { policy: run.model, rollout: id, candidate, baseline });
    return setStep(
      run,
      'rollout',
      'running',
      `promoted the shadow: ${reading}`,
      { shadow: { candidate, baseline } },
      now,
    );
  }
  if (now - since > shadow.timeoutMs) {
    await deps.rollouts.operate('abort', id, SYSTEM, `loop run ${run.id}: the shadow did not hold up (${reading})`);
    return endRun(run, 'failed', `the shadow did not hold up within ${fmtMs(shadow.timeoutMs)}: ${reading}`, now);
  }
  return setStep(
    run,
    'rollout',
    'running',
    `shadow: ${reading}${enough ? '' : `; waiting for ${shadow.minRecords} records`}`,
    {},
    now,
  );
}
