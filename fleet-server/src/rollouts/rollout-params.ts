/**
 * @module rollouts/rollout-params
 * Reading a create-rollout request and stored parameters with the contract's schemas
 * (protocol/src/rest/rollouts.ts, where every default is documented), and the defaults that
 * depend on the strategy or fall back to `errorAction`.
 */
import { describeZodError, type CreateRollout, type RolloutParams } from '@edgeloop/protocol';
import { createRolloutSchema, rolloutParametersSchema } from '@edgeloop/protocol/rest';

export type { CreateRollout, RolloutParams } from '@edgeloop/protocol';

export function parseCreateRollout(body: unknown): { ok: true; value: CreateRollout } | { ok: false; reason: string } {
  const parsed = createRolloutSchema.safeParse(body);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: describeZodError(parsed.error) };
}

/** Parameters as stored: defaults applied (stored rollouts keep the defaults they started with). */
/** Stored parameters (JSON as read back), checked and with defaults of newer settings filled in. */
export function parseStoredParams(stored: unknown): RolloutParams {
  return rolloutParametersSchema.parse(stored);
}

/** Default soak time per wave: none for direct (one wave, nothing to compare against yet). */
export function defaultWaitMs(strategy: string): number {
  return strategy === 'direct' ? 0 : 5 * 60_000;
}

export function liveErrorAction(p: RolloutParams): 'pause' | 'rollback' {
  return p.liveError.action ?? p.errorAction;
}

export function driftAction(p: RolloutParams): 'pause' | 'rollback' {
  return p.drift.action ?? p.errorAction;
}
