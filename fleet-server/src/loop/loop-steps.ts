/**
 * @module loop/loop-steps
 * One step of progress for a running loop run: data → train → gate → register → rollout →
 * resolve. Each call looks at what the run's record says and what the world holds now (the job,
 * the version, the rollout, the alerts) and returns the next record, so a run picks up where it
 * was after a restart: a job the restart killed is trained again (once), a version registered
 * before the crash is found by its training run and loop run instead of registered twice, and a
 * rollout carries on by itself (the rollout engine keeps its own state).
 */
import type { LoopRun } from '@edgeloop/protocol/rest';
import type { ModelVersionRecord } from '../store/fleet-store.js';
import type { LoopDeps, RecentWindow } from './loop-ports.js';
import { currentStep, endRun, finishStep, setStep, stepOf } from './loop-run-record.js';
import { resolveStep } from './resolve-step.js';
import { rolloutStep } from './rollout-step.js';
import { fmtMs, SYSTEM, type StepContext } from './step-context.js';

export { SYSTEM, type StepContext };

/** A job a restart killed is trained again this many times in all before the run fails. */
const TRAINING_ATTEMPTS = 2;

export async function advance(run: LoopRun, ctx: StepContext): Promise<LoopRun> {
  switch (currentStep(run)) {
    case undefined:
      return endRun(run, 'succeeded', null, ctx.deps.now());
    case 'trigger':
    case 'data':
      return dataStep(run, ctx);
    case 'train':
      return trainStep(run, ctx);
    case 'gate':
      return gateStep(run, ctx);
    case 'register':
      return registerStep(run, ctx);
    case 'rollout':
      return rolloutStep(run, ctx);
    case 'resolve':
      return resolveStep(run, ctx);
  }
}

/** Versions whose samples are left out: those a rollout rolled back. */
async function rolledBackVersions(deps: LoopDeps, model: string): Promise<number[]> {
  const rolledBack = await deps.rollouts.store.list({ model, state: 'rolled-back', limit: 100 });
  return [...new Set(rolledBack.map((r) => r.version))].sort((a, b) => a - b);
}

/** The dataset the champion was trained on (a re-released version's is its origin's). */
async function championDataset(deps: LoopDeps, model: string, champion: number | null): Promise<string | null> {
  let row = champion === null ? undefined : await deps.store.models.get(model, champion);
  while (row && !row.lineage.datasetId && row.lineage.parent !== undefined) {
    const parent = await deps.store.models.get(model, row.lineage.parent);
    if (!parent || parent.sha256 !== row.sha256) break;
    row = parent;
  }
  return row?.lineage.datasetId ?? null;
}

async function recentWindow(run: LoopRun, deps: LoopDeps, now: number): Promise<RecentWindow> {
  const spec = run.policy.dataset;
  const t = run.trigger;
  const start = t.onset ?? t.at - spec.windowMs;
  let devices: string[] | undefined;
  if (spec.devices === 'affected') devices = t.devices.length ? t.devices : undefined;
  else if (spec.devices !== 'all')
    devices = await deps.store.devices.select({ group: spec.devices.group, includeDisabled: true });
  return {
    model: run.model,
    devices,
    from: Math.max(0, start - spec.lookbackMs),
    to: now + 1,
    excludeVersions: await rolledBackVersions(deps, run.model),
  };
}

async function dataStep(run: LoopRun, { deps }: StepContext): Promise<LoopRun> {
  const now = deps.now();
  const spec = run.policy.dataset;
  const w = await recentWindow(run, deps, now);
  const where = `${w.devices ? `${w.devices.length} device(s)` : 'every device'} since ${new Date(w.from).toISOString()}`;
  const have = await deps.data.countRecent(w);
  if (have >= spec.minSamples) {
    const parent = spec.replayShare > 0 ? await championDataset(deps, run.model, run.champion) : null;
    const built = await deps.data.build({
      ...w,
      minSamples: spec.minSamples,
      maxSamples: spec.maxSamples,
      replayShare: parent ? spec.replayShare : 0,
      parentDatasetId: parent,
      name: `loop ${run.id}`,
      description: `retraining data of loop run ${run.id} (${run.model}): recent samples of ${where}${parent ? ` and ${Math.round(spec.replayShare * 100)} % from ${parent}` : ''}`,
    });
    if (built.ok) {
      const replay = built.replayed ? ` + ${built.replayed} from ${parent} (the champion's training data)` : '';
      return {
        ...finishStep(
          run,
          'data',
          'succeeded',
          `dataset ${built.datasetId}: ${built.recent} recent samples of ${where}${replay}`,
          {
            datasetId: built.datasetId,
            recent: built.recent,
            replayed: built.replayed,
            total: built.total,
            ...windowDetail(w),
          },
          now,
        ),
        datasetId: built.datasetId,
      };
    }
  }
  const step = stepOf(run, 'data');
  const since = step.startedAt ?? now;
  if (now - since > spec.waitMs)
    return endRun(
      run,
      'failed',
      `only ${have} of the ${spec.minSamples} recent samples the policy needs arrived within ${fmtMs(spec.waitMs)} (${where}); lower dataset.minSamples or widen dataset.devices`,
      now,
    );
  let detail: Record<string, unknown> = { have, need: spec.minSamples, ...windowDetail(w) };
  let capturing = '';
  if (spec.capture && step.detail.captureDevices === undefined) {
    const asked = await deps.data.openCapture({
      model: run.model,
      devices: w.devices,
      everyN: spec.capture.everyN,
      forMs: spec.capture.forMs,
    });
    detail = { ...detail, captureDevices: asked, captureForMs: spec.capture.forMs };
    await deps.audit.record(SYSTEM, 'loop.capture', run.id, {
      policy: run.model,
      devices: asked,
      forMs: spec.capture.forMs,
      everyN: spec.capture.everyN,
    });
  }
  const asked = (detail.captureDevices ?? step.detail.captureDevices) as number | undefined;
  if (asked !== undefined) capturing = `; capturing on ${asked} device(s)`;
  return setStep(run, 'data', 'waiting', `${have} of ${spec.minSamples} recent samples${capturing}`, detail, now);
}

const windowDetail = (w: RecentWindow) => ({
  from: w.from,
  to: w.to,
  devices: w.devices ?? 'all',
  excludeVersions: w.excludeVersions,
});

async function trainStep(run: LoopRun, { deps }: StepContext): Promise<LoopRun> {
  const now = deps.now();
  const attempts = (stepOf(run, 'train').detail.attempts as number | undefined) ?? 0;
  if (!run.trainingJobId) {
    const { training } = run.policy;
    const job = await deps.training.start(
      {
        dataset: run.datasetId!,
        trainer: training.trainer,
        sweep: training.sweep,
        ...(training.timeoutMs ? { timeoutMs: training.timeoutMs } : {}),
      },
      SYSTEM,
    );
    return {
      ...setStep(
        run,
        'train',
        'running',
        `training job ${job.id} started`,
        { jobId: job.id, attempts: attempts + 1 },
        now,
      ),
      trainingJobId: job.id,
    };
  }
  const job = await deps.store.training.getJob(run.trainingJobId);
  if (!job) return endRun(run, 'failed', `training job ${run.trainingJobId} is gone from the store`, now);
  if (job.status === 'queued' || job.status === 'running') {
    const runs = await deps.store.training.runsOf(job.id);
    const done = runs.filter((r) => r.status !== 'queued' && r.status !== 'running').length;
    return setStep(run, 'train', 'running', `training job ${job.id}: ${done} of ${runs.length} runs finished`, {}, now);
  }
  if (job.status === 'succeeded' && job.bestRunId) {
    const best = await deps.store.training.getRun(job.bestRunId);
    return {
      ...finishStep(
        run,
        'train',
        'succeeded',
        `best run ${job.bestRunId}: ${job.metric} ${best?.metrics ? metricText(best.metrics) : 'unknown'}`,
        { bestRunId: job.bestRunId, metrics: best?.metrics ?? null },
        now,
      ),
      trainingRunId: job.bestRunId,
    };
  }
  if (job.status === 'failed' && /server stopped/.test(job.error ?? '') && attempts < TRAINING_ATTEMPTS)
    // The restart killed the trainers: train the same dataset again.
    return {
      ...setStep(run, 'train', 'running', `training job ${job.id} died with the server; training again`, {}, now),
      trainingJobId: null,
    };
  return endRun(run, 'failed', `training job ${job.id} ${job.status}: ${job.error ?? 'no run succeeded'}`, now);
}

function metricText(m: NonNullable<Awaited<ReturnType<LoopDeps['store']['training']['getRun']>>>['metrics']): string {
  const v = m?.validation?.mae;
  const h = m?.holdout?.mae;
  return `validation MAE ${v?.toFixed(2) ?? '?'}, holdout MAE ${h?.toFixed(2) ?? '?'}`;
}

async function gateStep(run: LoopRun, { deps, signal }: StepContext): Promise<LoopRun> {
  const now0 = deps.now();
  const champion: ModelVersionRecord | undefined =
    run.champion === null ? undefined : await deps.store.models.get(run.model, run.champion);
  if (!champion)
    return finishStep(run, 'gate', 'skipped', 'no version serves yet: there is no champion to compare with', {}, now0);
  const best = await deps.store.training.getRun(run.trainingRunId!);
  if (!best) return endRun(run, 'failed', `training run ${run.trainingRunId} is gone from the store`, now0);
  const running = setStep(run, 'gate', 'running', `comparing with ${run.model} v${champion.version}`, {}, now0);
  await deps.runs.updateRun(running);
  const gate = await deps.gate.evaluate({
    champion,
    run: best,
    datasetId: run.datasetId!,
    gate: run.policy.gate,
    signal,
  });
  const now = deps.now();
  const detail = { verdict: gate.verdict, recent: gate.recent, original: gate.original };
  if (gate.verdict === 'rejected') {
    const why = gate.reasons.join(' ');
    await deps.audit.record(SYSTEM, 'loop.gate.reject', run.id, { policy: run.model, reasons: gate.reasons });
    return endRun(
      { ...finishStep(running, 'gate', 'failed', why, detail, now), gate },
      'rejected',
      `the gate refused the challenger: ${why}`,
      now,
    );
  }
  return { ...finishStep(running, 'gate', 'succeeded', gate.reasons.join(' '), detail, now), gate };
}

async function registerStep(run: LoopRun, { deps }: StepContext): Promise<LoopRun> {
  const now = deps.now();
  // Registered before a crash: the version names this loop run and training run.
  const existing = (await deps.store.models.versionsOf(run.model)).find(
    (v) => v.lineage.loopRunId === run.id && v.lineage.trainingRunId === run.trainingRunId,
  );
  const row =
    existing ??
    (await deps.training.register(
      run.trainingRunId!,
      {
        model: run.model,
        ...(run.champion !== null ? { parent: run.champion } : {}),
        trigger: run.trigger.kind === 'incident' ? 'drift' : run.trigger.kind,
        loopRunId: run.id,
        ...(run.trigger.incidentId ? { incidentId: run.trigger.incidentId } : {}),
      },
      SYSTEM,
    ));
  return {
    ...finishStep(
      run,
      'register',
      'succeeded',
      `registered and signed as ${run.model} v${row.version}`,
      { version: row.version, sha256: row.sha256, keyId: row.keyId },
      now,
    ),
    version: row.version,
  };
}
