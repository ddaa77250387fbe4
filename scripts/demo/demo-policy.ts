/**
 * @module demo/demo-policy
 * The retraining loop's policy for the demo's model, and the server settings a compressed-time
 * run needs. Everything not set here is the policy's default (protocol/src/rest/loop.ts).
 *
 * - triggers: every rule's incident (the default): label shift fires the label rules, covariate
 *   shift the feature-drift rule, concept drift the live-error rule.
 * - dataset: every car (all drive the same world), recent data from the onset, 30 % replay of
 *   the champion's training data; every frame captured while samples are short.
 * - rollout: a canary of two cars, then all. Its live-error gate is off here: the rollout engine
 *   judges on the wall clock while the records carry simulated time, so in compressed time it
 *   would never see the candidate's records; the loop's own gate compared challenger and champion
 *   on holdouts before the rollout began.
 * - guards: no cool-down and a large daily budget, as the demo drives drift after drift within
 *   minutes on purpose.
 * - settleMs: a minute of data time with the rule clear before the incident resolves.
 */
import type { LoopPolicyInput } from '@edgeloop/protocol/rest';

export interface DemoPolicyOptions {
  model: string;
  /** Simulated seconds per wall second: rollout waits are wall time, so they shrink with it. */
  timeScale: number;
  strategy?: 'canary' | 'direct';
}

export function demoPolicy(o: DemoPolicyOptions): LoopPolicyInput {
  const wallMs = (simMs: number) => Math.max(1000, Math.round(simMs / o.timeScale));
  return {
    model: o.model,
    enabled: true,
    triggers: [{ kind: 'incident' }],
    dataset: {
      devices: 'all',
      lookbackMs: 0,
      replayShare: 0.3,
      minSamples: 600,
      waitMs: 10 * 60_000,
      capture: { everyN: 1, forMs: 5 * 60_000 },
    },
    training: { trainer: 'builtin', sweep: { seed: 1, base: {} } },
    gate: { minImprovement: 0.1, originalTolerance: 0.1, minHoldout: 30 },
    rollout: {
      strategy: o.strategy ?? 'canary',
      target: { all: true },
      parameters: {
        ...(o.strategy === 'direct' ? {} : { canary: { count: 2 } }),
        waitMs: wallMs(30_000),
        healthyAfterMs: wallMs(30_000),
        liveError: { required: 'never' },
      },
    },
    guards: { cooldownMs: 0, maxRunsPerDay: 100 },
    settleMs: 60_000,
  };
}

/**
 * Server settings for a run whose data clock is `timeScale` times the wall clock: rules are
 * evaluated every 5 simulated seconds, as they are every 5 s in real time.
 */
export function compressedServerConfig(timeScale: number): { monitoring: { evaluateEveryMs: number } } {
  return { monitoring: { evaluateEveryMs: Math.max(100, Math.round(5000 / timeScale)) } };
}
