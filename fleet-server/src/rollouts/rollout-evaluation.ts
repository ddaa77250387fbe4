/**
 * @module rollouts/rollout-evaluation
 * One reading of a rollout from the database: per-wave tallies, the failure, success and wait
 * gates of the current wave, live error per arm and drift. The engine acts on it; the API shows
 * it. Reading has no side effects.
 */
import type { ErrorArm, GateReading, RolloutDeviceState } from '@edgeloop/protocol';
import { FAILED, IN_PROGRESS, SUCCEEDED } from './device-state.js';
import { fmt, judgeFailures, judgeLiveError, pct, waveGates, type LiveErrorVerdict, type WaveTally } from './gates.js';
import type { LiveErrorQueries } from './live-error.js';
import { driftAction, liveErrorAction } from './rollout-params.js';
import type { DevicePresence, Rollout, RolloutDevice } from './rollout-store.js';

export interface Trip {
  gate: 'failures' | 'live-error' | 'drift';
  action: 'pause' | 'rollback';
  reason: string;
  numbers: Record<string, unknown>;
}

export interface Evaluation {
  tallies: WaveTally[];
  counts: Array<Partial<Record<RolloutDeviceState, number>>>;
  liveError: { candidate: ErrorArm; baseline: ErrorArm; verdict: LiveErrorVerdict };
  drift: { psi: number | null; candidate: number; baseline: number };
  gates: GateReading[];
  /** The current wave may be called done. */
  waveDone: boolean;
  /** Devices given the candidate that have not finished (assigned/downloading/verified). */
  inProgress: number;
  trip: Trip | undefined;
}

export function isOfflineTooLong(
  d: RolloutDevice,
  p: DevicePresence | undefined,
  now: number,
  graceMs: number,
): boolean {
  if (p?.online) return false;
  const since = Math.max(p?.lastSeen ?? 0, d.assignedAt ?? 0);
  return now - since > graceMs;
}

export function tallyWaves(
  r: Rollout,
  devs: readonly RolloutDevice[],
  presence: Map<string, DevicePresence>,
  now: number,
) {
  const waveCount = Math.max(r.waves.length, 1 + Math.max(-1, ...devs.map((d) => d.wave)));
  const tallies: WaveTally[] = Array.from({ length: waveCount }, () => ({
    size: 0,
    pending: 0,
    inProgress: 0,
    succeeded: 0,
    failed: 0,
    offline: 0,
  }));
  const counts: Array<Partial<Record<RolloutDeviceState, number>>> = Array.from({ length: waveCount }, () => ({}));
  for (const d of devs) {
    if (d.wave < 0) continue;
    const c = counts[d.wave]!;
    c[d.state] = (c[d.state] ?? 0) + 1;
    if (d.state === 'skipped') continue;
    const t = tallies[d.wave]!;
    t.size++;
    if (d.state === 'pending') t.pending++;
    else if (FAILED.has(d.state)) t.failed += d.acknowledged ? 0 : 1;
    else if (
      d.state !== 'rolled-back' &&
      !d.acknowledged &&
      isOfflineTooLong(d, presence.get(d.deviceId), now, r.params.offlineGraceMs)
    )
      t.offline++;
    else if (SUCCEEDED.has(d.state)) t.succeeded++;
    else if (IN_PROGRESS.has(d.state)) t.inProgress++;
  }
  return { tallies, counts };
}

export async function evaluate(
  r: Rollout,
  devs: readonly RolloutDevice[],
  presence: Map<string, DevicePresence>,
  queries: LiveErrorQueries,
  now: number,
): Promise<Evaluation> {
  const p = r.params;
  const { tallies, counts } = tallyWaves(r, devs, presence, now);
  const armQuery = {
    rolloutId: r.id,
    model: r.model,
    candidate: r.version,
    baselineVersion: r.baselineVersion,
    createdAt: r.createdAt,
    judgedSince: r.judgedSince,
    lookbackMs: p.liveError.baselineLookbackMs,
    shadow: r.role === 'shadow',
  };
  // Drift comes from the same rollups as live error, so it costs nothing extra to read.
  const { drift, ...arms } = await queries.arms(armQuery, devs);
  const verdict = judgeLiveError(arms.candidate, arms.baseline, p.liveError);

  let trip: Trip | undefined;
  // Every started wave stays judged: a device of an early wave failing later still counts.
  for (let w = 0; w <= Math.min(r.currentWave, tallies.length - 1) && !trip; w++) {
    const f = judgeFailures(tallies[w]!, p);
    if (f.tripped) {
      trip = {
        gate: 'failures',
        action: p.errorAction,
        reason: `wave ${w + 1}: ${f.failures} of ${f.decided} decided devices failed or went offline (${pct(f.rate!)}), more than errorThreshold ${pct(p.errorThreshold)}`,
        numbers: {
          wave: w + 1,
          failures: f.failures,
          decided: f.decided,
          rate: f.rate,
          errorThreshold: p.errorThreshold,
          ...tallies[w],
        },
      };
    }
  }
  if (!trip && verdict.status === 'fail') {
    trip = {
      gate: 'live-error',
      action: liveErrorAction(p),
      reason: `live error: ${verdict.detail}`,
      numbers: {
        candidate: arms.candidate,
        baseline: arms.baseline,
        ratio: verdict.ratio,
        maxErrorRatio: p.liveError.maxErrorRatio,
        minDelta: p.liveError.minDelta,
      },
    };
  }
  const driftJudged =
    p.drift.maxPsi !== undefined &&
    drift.psi !== null &&
    drift.candidate >= p.drift.minRecords &&
    drift.baseline >= p.drift.minRecords;
  if (!trip && driftJudged && drift.psi! > p.drift.maxPsi!) {
    trip = {
      gate: 'drift',
      action: driftAction(p),
      reason: `prediction drift: PSI ${fmt(drift.psi)} of the candidate's predictions vs the baseline's exceeds maxPsi ${p.drift.maxPsi}`,
      numbers: { psi: drift.psi, maxPsi: p.drift.maxPsi, candidate: drift.candidate, baseline: drift.baseline },
    };
  }

  const cw = Math.min(r.currentWave, r.waves.length - 1);
  const wave = r.waves[cw];
  const tally = tallies[cw] ?? { size: 0, pending: 0, inProgress: 0, succeeded: 0, failed: 0, offline: 0 };
  const waveEval = wave
    ? waveGates({ tally, startedAt: wave.startedAt, waitMs: wave.waitMs, now, liveError: verdict }, p)
    : { done: false, readings: [] as GateReading[] };
  const f = judgeFailures(tally, p);
  const gates: GateReading[] = [
    {
      gate: 'failures',
      status: f.tripped ? 'fail' : f.judged ? 'pass' : 'insufficient',
      value: f.rate,
      threshold: p.errorThreshold,
      detail: `${f.failures} of ${f.decided} decided devices of wave ${cw + 1} failed or offline${f.judged ? '' : ` (judged from ${Math.min(p.minDevices, tally.size)} decided)`}`,
    },
    ...waveEval.readings,
    {
      gate: 'live-error',
      status: verdict.status === 'insufficient' ? (verdict.required ? 'waiting' : 'insufficient') : verdict.status,
      value: verdict.ratio,
      threshold: p.liveError.maxErrorRatio,
      detail: verdict.detail,
    },
    {
      gate: 'drift',
      status:
        p.drift.maxPsi === undefined
          ? 'off'
          : !driftJudged
            ? 'insufficient'
            : drift.psi! > p.drift.maxPsi
              ? 'fail'
              : 'pass',
      value: drift.psi,
      threshold: p.drift.maxPsi ?? null,
      detail:
        drift.psi === null
          ? 'no predictions to compare yet'
          : `PSI ${fmt(drift.psi)} of the output histograms over ${drift.candidate} candidate and ${drift.baseline} baseline predictions`,
    },
  ];
  const inProgress = tallies.reduce((n, t) => n + t.inProgress, 0);
  return { tallies, counts, liveError: { ...arms, verdict }, drift, gates, waveDone: waveEval.done, inProgress, trip };
}
