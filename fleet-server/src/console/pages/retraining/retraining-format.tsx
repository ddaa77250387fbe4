/**
 * @module console/pages/retraining/retraining-format
 * How the retraining pages name things: loop run, step and training states as badges with text
 * (never colour alone), durations, and the links from one id to its page, so every page of the
 * section writes an incident, dataset, job, version or rollout the same way.
 */
import type { LoopRun, LoopStep, TrainingJobSummary, TrainingRunSummary } from '@edgeloop/protocol';
import { Badge, type Tone } from '../../layout/components.js';

const enc = encodeURIComponent;

export const LOOP_STATE_TONE: Record<LoopRun['state'], Tone> = {
  running: 'info',
  succeeded: 'ok',
  rejected: 'warn',
  'rolled-back': 'warn',
  failed: 'bad',
  cancelled: 'muted',
};

export const STEP_STATUS_TONE: Record<LoopStep['status'], Tone> = {
  pending: 'muted',
  running: 'info',
  waiting: 'info',
  succeeded: 'ok',
  failed: 'bad',
  skipped: 'muted',
};

const TRAINING_TONE: Record<string, Tone> = {
  queued: 'muted',
  running: 'info',
  succeeded: 'ok',
  failed: 'bad',
  cancelled: 'muted',
  timed_out: 'bad',
};

export function LoopStateBadge(props: { state: LoopRun['state'] }) {
  return <Badge tone={LOOP_STATE_TONE[props.state]}>{props.state}</Badge>;
}

export function TrainingStatusBadge(props: { status: TrainingJobSummary['status'] | TrainingRunSummary['status'] }) {
  return <Badge tone={TRAINING_TONE[props.status] ?? 'muted'}>{props.status.replace('_', ' ')}</Badge>;
}

/** "1 h 4 min", "12 s", "850 ms": how long something took. */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** Between two times, or since `from` when the thing is still going. */
export function spanMs(from: number | null, to: number | null, now = Date.now()): number | null {
  if (from === null) return null;
  return (to ?? now) - from;
}

/** What started a run, in words: the incident's rule, the schedule, or who pressed the button. */
export function triggerText(t: LoopRun['trigger']): string {
  switch (t.kind) {
    case 'incident':
      return `incident${t.rule ? ` (${t.rule})` : ''}`;
    case 'manual':
      return `manual by ${t.actor}${t.reason ? `: ${t.reason}` : ''}`;
    case 'schedule':
      return 'schedule';
    case 'data':
      return 'new data';
  }
}

export const links = {
  loopRun: (id: string) => `/retraining/runs/${enc(id)}`,
  job: (id: string) => `/retraining/jobs/${enc(id)}`,
  dataset: (id: string) => `/retraining/datasets/${enc(id)}`,
  incident: (id: string) => `/drift/incidents/${enc(id)}`,
  model: (name: string) => `/models/${enc(name)}`,
  version: (name: string, v: number) => `/models/${enc(name)}/versions/${v}`,
  rollout: (id: string) => `/rollouts/${enc(id)}`,
  device: (id: string) => `/devices/${enc(id)}`,
  recordLineage: (id: number) => `/retraining/lineage/records/${id}`,
  versionLineage: (name: string, v: number) => `/retraining/lineage/models/${enc(name)}/${v}`,
};

/** A run's parameter value as text (strings quoted only when they would read as something else). */
export function fmtParam(v: number | boolean | string | undefined): string {
  if (v === undefined) return '–';
  return typeof v === 'string' ? v : String(v);
}
