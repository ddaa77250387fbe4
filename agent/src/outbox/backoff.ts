/**
 * @module outbox/backoff
 * The pause before the outbox sends a stream again after its acks stopped coming: exponential,
 * capped, with "equal jitter" — half of the step is fixed, half random. The fixed half makes each
 * pause at least as long as the one before until the steps reach the cap (a fleet server that is
 * down is asked less often as the outage goes on), and keeps every pause at the cap above half of
 * it; the random half spreads a fleet's devices, so an outage they all saw does not end in all of
 * them re-sending in the same second.
 */

export interface BackoffOptions {
  /** Upper bound of the first pause. */
  minMs: number;
  /** Upper bound of every pause. */
  maxMs: number;
}

/**
 * Pause before re-send number `attempt` (1 = after the first timeout): uniformly in
 * [step/2, step] with step = min(maxMs, minMs·2^(attempt-1)). `random` returns [0, 1).
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const step = Math.min(opts.maxMs, opts.minMs * 2 ** exponent);
  return Math.round(step / 2 + random() * (step / 2));
}
