/**
 * @module rollouts/device-state
 * The per-device state machine of a rollout, derived (pure) from what the fleet knows: the
 * device's assignment row for the model (the agent's update reports move it), whether the device
 * is online, and the clock.
 *
 *   pending ─engine assigns─▶ assigned ─▶ downloading ─▶ verified ─▶ active ─(healthyAfterMs, online)─▶ healthy
 *                                 │             │             │          │
 *                                 └─ deviceTimeoutMs without reaching active ─▶ timed-out (until it reports again)
 *                                 failed | rejected: as the agent reported (code: reason)
 *   any state that got the candidate ─rollback─▶ rolled-back
 *   reassigned outside the rollout, or the model removed from the device ─▶ skipped
 *
 * pending, skipped and rolled-back are only ever set by the engine; everything else follows the
 * agent's reports, so a device that times out and then reports active becomes active.
 */
import type { RolloutDeviceState } from '@edgeloop/protocol';
import type { RolloutDevice } from './rollout-store.js';

export interface AssignmentFact {
  version: number;
  /** assigned | downloading | verified | active | rejected | failed | removed */
  state: string;
  code: string | null;
  reason: string | null;
}

export interface DeviceFacts {
  stored: RolloutDeviceState;
  assignedAt: number | null;
  /** When the device was first seen active with the candidate (from the stored times). */
  activeSince: number | undefined;
  assignment: AssignmentFact | undefined;
  online: boolean;
}

export interface DerivedState {
  state: RolloutDeviceState;
  reason: string | null;
}

export const ENGINE_OWNED: ReadonlySet<RolloutDeviceState> = new Set(['pending', 'skipped', 'rolled-back']);
/** The device was given the candidate (these go back on rollback). */
export const GIVEN: ReadonlySet<RolloutDeviceState> = new Set([
  'assigned',
  'downloading',
  'verified',
  'active',
  'healthy',
  'failed',
  'rejected',
  'timed-out',
]);
export const IN_PROGRESS: ReadonlySet<RolloutDeviceState> = new Set(['assigned', 'downloading', 'verified']);
export const SUCCEEDED: ReadonlySet<RolloutDeviceState> = new Set(['active', 'healthy']);
export const FAILED: ReadonlySet<RolloutDeviceState> = new Set(['failed', 'rejected', 'timed-out']);

export function deriveDeviceState(
  f: DeviceFacts,
  candidate: number,
  now: number,
  p: { deviceTimeoutMs: number; healthyAfterMs: number },
): DerivedState {
  if (ENGINE_OWNED.has(f.stored)) return { state: f.stored, reason: null };
  const a = f.assignment;
  if (!a) return { state: 'skipped', reason: 'the model was unassigned from the device outside this rollout' };
  if (a.version !== candidate)
    return { state: 'skipped', reason: `reassigned outside this rollout (now v${a.version})` };
  switch (a.state) {
    case 'active': {
      const since = f.activeSince ?? now;
      return { state: f.online && now - since >= p.healthyAfterMs ? 'healthy' : 'active', reason: null };
    }
    case 'failed':
    case 'rejected':
      return { state: a.state, reason: a.code ? `${a.code}${a.reason ? `: ${a.reason}` : ''}` : a.reason };
    case 'removed':
      return { state: 'skipped', reason: 'the device removed the model' };
    default: {
      const state: RolloutDeviceState = a.state === 'downloading' || a.state === 'verified' ? a.state : 'assigned';
      if (f.assignedAt !== null && now - f.assignedAt > p.deviceTimeoutMs) {
        return {
          state: 'timed-out',
          reason: `still ${state} ${Math.round((now - f.assignedAt) / 1000)} s after assignment (deviceTimeoutMs ${p.deviceTimeoutMs})`,
        };
      }
      return { state, reason: null };
    }
  }
}

/** Records the first time each state was entered. */
function withTime(
  times: Partial<Record<RolloutDeviceState, number>>,
  state: RolloutDeviceState,
  now: number,
): Partial<Record<RolloutDeviceState, number>> {
  return times[state] === undefined ? { ...times, [state]: now } : times;
}

/** Moves a device row to `state` now, keeping when each state was first entered. */
export function setState(d: RolloutDevice, state: RolloutDeviceState, now: number): void {
  d.state = state;
  d.stateAt = now;
  d.times = withTime(d.times, state, now);
}
