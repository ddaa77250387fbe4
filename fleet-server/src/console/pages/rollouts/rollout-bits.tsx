/**
 * @module console/pages/rollouts/rollout-bits
 * What the rollout list and a rollout's page show alike: the state badge, device counts by
 * state with a progress bar, a target in words, a wait in words. Badges carry their text, so
 * colour is never the only sign.
 */
import type { RolloutDeviceState, RolloutState, RolloutSummary } from '@edgeloop/protocol';
import { ROLLOUT_DEVICE_STATES } from '@edgeloop/protocol';
import { Badge, type Tone } from '../../layout/components.js';

export const ACTIVE_STATES: readonly RolloutState[] = ['running', 'paused'];

const STATE_TONE: Record<RolloutState, Tone> = {
  running: 'info',
  paused: 'warn',
  completed: 'ok',
  aborted: 'muted',
  'rolled-back': 'bad',
};

export function stateTone(state: RolloutState): Tone {
  return STATE_TONE[state];
}

/** The rollout's state as a badge; `data-testid="rollout-state"` holds exactly the state. */
export function RolloutStateBadge(props: { rollout: Pick<RolloutSummary, 'state' | 'holding'>; testid?: boolean }) {
  const { state, holding } = props.rollout;
  return (
    <>
      <span class={`badge badge-${stateTone(state)}`} data-testid={props.testid ? 'rollout-state' : undefined}>
        {state}
      </span>
      {holding ? (
        <>
          {' '}
          <Badge tone="warn" title="the candidate reached its share; promote or abort">
            holding
          </Badge>
        </>
      ) : null}
    </>
  );
}

export function deviceTone(state: RolloutDeviceState): Tone {
  switch (state) {
    case 'healthy':
    case 'active':
      return 'ok';
    case 'failed':
    case 'rejected':
    case 'timed-out':
      return 'bad';
    case 'rolled-back':
      return 'warn';
    case 'pending':
    case 'skipped':
      return 'muted';
    default:
      return 'info';
  }
}

/** Devices serving (or shadowing) the candidate: the progress of a rollout or wave. */
export function doneCount(counts: Partial<Record<RolloutDeviceState, number>>): number {
  return (counts.active ?? 0) + (counts.healthy ?? 0);
}

/** "3 healthy · 1 downloading · 2 pending", in the state machine's order. */
export function CountsByState(props: { counts: Partial<Record<RolloutDeviceState, number>> }) {
  const present = ROLLOUT_DEVICE_STATES.filter((s) => (props.counts[s] ?? 0) > 0);
  if (present.length === 0) return <span class="muted">no devices</span>;
  return (
    <span class="counts">
      {present.map((s) => (
        <Badge tone={deviceTone(s)}>
          {props.counts[s]} {s}
        </Badge>
      ))}
    </span>
  );
}

/** A progress bar of devices on the candidate out of `total`, with the numbers in text. */
export function DoneProgress(props: { done: number; total: number; label: string }) {
  return (
    <span class="done-progress">
      <progress value={props.done} max={Math.max(props.total, 1)} aria-label={props.label}>
        {props.done} of {props.total}
      </progress>{' '}
      {props.done}/{props.total}
    </span>
  );
}

export function describeTarget(target: RolloutSummary['target']): string {
  if ('all' in target) return 'every device';
  if ('group' in target) return `group ${target.group}`;
  if ('tags' in target)
    return `tags ${Object.entries(target.tags)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`;
  const ids = target.devices;
  return ids.length <= 5
    ? `devices ${ids.join(', ')}`
    : `${ids.length} listed devices (${ids.slice(0, 3).join(', ')}, …)`;
}

export function fmtDuration(ms: number): string {
  if (ms === 0) return 'none';
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)} min`;
  return `${+(ms / 3_600_000).toFixed(1)} h`;
}

export const rolloutHref = (id: string) => `/rollouts/${encodeURIComponent(id)}`;
