/**
 * @module rest/constants
 * The closed sets of the REST contract (model statuses, rollout strategies, states and actions,
 * enrollment token statuses) as plain arrays. They are exported from `@edgeloop/protocol` itself;
 * the schemas that use them load only with `@edgeloop/protocol/rest` (or /client, /browser), so a
 * device agent does not build the whole API contract in its memory.
 */

export const MODEL_STATUSES = ['registered', 'approved', 'deprecated', 'revoked'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

export const ROLLOUT_STRATEGIES = ['direct', 'staged', 'canary', 'ab', 'shadow'] as const;
export type RolloutStrategy = (typeof ROLLOUT_STRATEGIES)[number];

/** running and paused are "active": at most one active rollout per model. */
export const ROLLOUT_STATES = ['running', 'paused', 'completed', 'aborted', 'rolled-back'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

/**
 * Per device: pending (not yet given the candidate) → assigned → downloading → verified → active
 * → healthy (active for `healthyAfterMs` and online), or failed | rejected | timed-out; then
 * rolled-back when a rollback gave it the re-released baseline. skipped: not part of the rollout
 * after all (already on the candidate or newer, or reassigned outside the rollout).
 */
export const ROLLOUT_DEVICE_STATES = [
  'pending',
  'assigned',
  'downloading',
  'verified',
  'active',
  'healthy',
  'failed',
  'rejected',
  'timed-out',
  'rolled-back',
  'skipped',
] as const;
export type RolloutDeviceState = (typeof ROLLOUT_DEVICE_STATES)[number];

/** What an operator may do to a rollout: POST /api/v1/rollouts/{id}/{action}. */
export const ROLLOUT_ACTIONS = ['pause', 'resume', 'abort', 'rollback', 'promote'] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

export const ENROLLMENT_TOKEN_STATUSES = ['active', 'used-up', 'expired', 'revoked'] as const;
export type EnrollmentTokenStatus = (typeof ENROLLMENT_TOKEN_STATUSES)[number];
