/**
 * @module loop/loop-run-record
 * A loop run as one record: made with every step pending, then each step moved through running
 * (or waiting) to its outcome. The helpers return new records and never write; the engine writes
 * after each change, so the stored record is always the last thing that happened.
 */
import { randomBytes } from 'node:crypto';
import {
  LOOP_STEP_NAMES,
  type LoopPolicy,
  type LoopRun,
  type LoopRunState,
  type LoopRunTrigger,
  type LoopStep,
  type LoopStepName,
  type LoopStepStatus,
} from '@edgeloop/protocol/rest';

export function newLoopRun(policy: LoopPolicy, trigger: LoopRunTrigger, champion: number | null, now: number): LoopRun {
  const steps: LoopStep[] = LOOP_STEP_NAMES.map((name) => ({
    name,
    status: 'pending',
    startedAt: null,
    finishedAt: null,
    outcome: null,
    detail: {},
  }));
  const run: LoopRun = {
    id: `lr-${randomBytes(5).toString('hex')}`,
    model: policy.model,
    state: 'running',
    step: 'trigger',
    trigger,
    policy,
    champion,
    datasetId: null,
    trainingJobId: null,
    trainingRunId: null,
    gate: null,
    version: null,
    rolloutId: null,
    steps,
    reason: null,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
  };
  const why = trigger.incidentId
    ? `incident ${trigger.incidentId} (${trigger.rule ?? 'rule'}) on ${trigger.devices.length} device(s)`
    : (trigger.reason ?? `${trigger.kind} trigger`);
  return finishStep(run, 'trigger', 'succeeded', `started by ${trigger.actor}: ${why}`, {}, now);
}

export function stepOf(run: LoopRun, name: LoopStepName): LoopStep {
  return run.steps.find((s) => s.name === name)!;
}

function withStep(run: LoopRun, name: LoopStepName, change: (s: LoopStep) => LoopStep, now: number): LoopRun {
  return {
    ...run,
    step: name,
    updatedAt: now,
    steps: run.steps.map((s) => (s.name === name ? change(s) : s)),
  };
}

/** Marks a step running (or waiting), keeping its first start time and merging detail. */
export function setStep(
  run: LoopRun,
  name: LoopStepName,
  status: Extract<LoopStepStatus, 'running' | 'waiting'>,
  outcome: string | null,
  detail: Record<string, unknown>,
  now: number,
): LoopRun {
  return withStep(
    run,
    name,
    (s) => ({ ...s, status, startedAt: s.startedAt ?? now, outcome, detail: { ...s.detail, ...detail } }),
    now,
  );
}

export function finishStep(
  run: LoopRun,
  name: LoopStepName,
  status: Extract<LoopStepStatus, 'succeeded' | 'failed' | 'skipped'>,
  outcome: string,
  detail: Record<string, unknown>,
  now: number,
): LoopRun {
  return withStep(
    run,
    name,
    (s) => ({
      ...s,
      status,
      startedAt: s.startedAt ?? now,
      finishedAt: now,
      outcome,
      detail: { ...s.detail, ...detail },
    }),
    now,
  );
}

/** Ends the run; a step still running or waiting ends with it (failed unless the run succeeded). */
export function endRun(
  run: LoopRun,
  state: Exclude<LoopRunState, 'running'>,
  reason: string | null,
  now: number,
): LoopRun {
  const steps = run.steps.map((s) =>
    s.status === 'running' || s.status === 'waiting'
      ? {
          ...s,
          status: (state === 'succeeded' ? 'succeeded' : 'failed') as LoopStepStatus,
          finishedAt: now,
          outcome: reason ?? s.outcome,
        }
      : s.status === 'pending'
        ? { ...s, status: 'skipped' as LoopStepStatus, outcome: 'not reached' }
        : s,
  );
  return { ...run, state, reason, steps, updatedAt: now, finishedAt: now };
}

/** The first step that has not finished, in order: where the engine picks up. */
export function currentStep(run: LoopRun): LoopStepName | undefined {
  return run.steps.find((s) => s.status === 'pending' || s.status === 'running' || s.status === 'waiting')?.name;
}
