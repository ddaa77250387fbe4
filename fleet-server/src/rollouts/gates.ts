/**
 * @module rollouts/gates
 * The arithmetic that decides a wave, kept pure so it is tested on numbers alone.
 *
 * - failures: more than `errorThreshold` of a wave's decided devices failed, rejected, timed out
 *   or stayed offline past `offlineGraceMs` → errorAction. Judged once min(minDevices, wave size)
 *   devices are decided (active or failed), so one early failure in a big wave does not trip it,
 *   and every started wave keeps being judged (a crash loop in wave 1 stops wave 3).
 * - success: at least `successThreshold` of the wave's devices active before it may advance.
 * - wait: the wave started at least `waitMs` ago.
 * - live error: the candidate's MAE vs reference values against the baseline's; worse than
 *   maxErrorRatio × baseline (and by more than minDelta) → action. Needs minRecords per arm.
 * - drift: PSI of the candidate's output histogram vs the baseline's (rollouts/live-error.ts);
 *   only acts when maxPsi is set.
 */
import type { ErrorArm, GateReading } from '@edgeloop/protocol';

export interface WaveTally {
  size: number;
  pending: number;
  inProgress: number;
  succeeded: number;
  /** failed + rejected + timed-out, minus failures the operator acknowledged by resuming. */
  failed: number;
  /** Unfinished devices offline longer than offlineGraceMs. */
  offline: number;
}

export interface FailureVerdict {
  judged: boolean;
  decided: number;
  failures: number;
  rate: number | null;
  tripped: boolean;
}

export function judgeFailures(t: WaveTally, p: { errorThreshold: number; minDevices: number }): FailureVerdict {
  const failures = t.failed + t.offline;
  const decided = t.succeeded + failures;
  const needed = Math.min(p.minDevices, t.size);
  if (decided === 0 || decided < needed)
    return { judged: false, decided, failures, rate: decided ? failures / decided : null, tripped: false };
  const rate = failures / decided;
  return { judged: true, decided, failures, rate, tripped: rate > p.errorThreshold };
}

export function judgeSuccess(t: WaveTally, p: { successThreshold: number }): { rate: number; met: boolean } {
  const rate = t.size === 0 ? 1 : t.succeeded / t.size;
  return { rate, met: rate >= p.successThreshold - 1e-12 };
}

export type LiveErrorStatus = 'pass' | 'fail' | 'insufficient';

export interface LiveErrorVerdict {
  status: LiveErrorStatus;
  ratio: number | null;
  required: boolean;
  detail: string;
}

export function judgeLiveError(
  candidate: ErrorArm,
  baseline: ErrorArm,
  p: { maxErrorRatio: number; minDelta: number; minRecords: number; required: 'auto' | 'always' | 'never' },
): LiveErrorVerdict {
  // auto: a model whose serving version gets reference values must show the candidate's too.
  const required = p.required === 'always' || (p.required === 'auto' && baseline.records >= p.minRecords);
  const ratio =
    candidate.mae !== null && baseline.mae !== null
      ? baseline.mae === 0
        ? candidate.mae === 0
          ? 1
          : Infinity
        : candidate.mae / baseline.mae
      : null;
  if (
    candidate.records < p.minRecords ||
    baseline.records < p.minRecords ||
    candidate.mae === null ||
    baseline.mae === null
  ) {
    return {
      status: 'insufficient',
      ratio,
      required,
      detail: `needs ${p.minRecords} reference-joined records per arm (candidate ${candidate.records}, baseline ${baseline.records})`,
    };
  }
  const worse = candidate.mae > p.maxErrorRatio * baseline.mae && candidate.mae - baseline.mae > p.minDelta;
  const numbers = `candidate MAE ${fmt(candidate.mae)} (${candidate.records} records) vs baseline MAE ${fmt(baseline.mae)} (${baseline.records} records), ratio ${fmt(ratio)}`;
  return worse
    ? { status: 'fail', ratio, required, detail: `${numbers} exceeds maxErrorRatio ${p.maxErrorRatio}` }
    : { status: 'pass', ratio, required, detail: `${numbers} within maxErrorRatio ${p.maxErrorRatio}` };
}

export interface WaveDecisionInput {
  tally: WaveTally;
  startedAt: number | null;
  waitMs: number;
  now: number;
  liveError: LiveErrorVerdict;
}

/** May this wave be called done? Returns the readings that say why (not). */
export function waveGates(
  input: WaveDecisionInput,
  p: { successThreshold: number },
): { done: boolean; readings: GateReading[] } {
  const { tally, startedAt, waitMs, now, liveError } = input;
  const success = judgeSuccess(tally, p);
  const waited = startedAt === null ? 0 : now - startedAt;
  const readings: GateReading[] = [
    {
      gate: 'devices',
      status: tally.pending === 0 ? 'pass' : 'waiting',
      value: tally.size - tally.pending,
      threshold: tally.size,
      detail: `${tally.size - tally.pending} of ${tally.size} wave devices given the candidate`,
    },
    {
      gate: 'success',
      status: success.met ? 'pass' : 'waiting',
      value: success.rate,
      threshold: p.successThreshold,
      detail: `${tally.succeeded} of ${tally.size} wave devices active (${pct(success.rate)}, need ${pct(p.successThreshold)})`,
    },
    {
      gate: 'wait',
      status: startedAt !== null && waited >= waitMs ? 'pass' : 'waiting',
      value: waited,
      threshold: waitMs,
      detail: `${Math.round(waited / 1000)} s of ${Math.round(waitMs / 1000)} s soak time`,
    },
  ];
  const liveOk = liveError.status === 'pass' || (liveError.status === 'insufficient' && !liveError.required);
  const done = tally.pending === 0 && success.met && startedAt !== null && waited >= waitMs && liveOk;
  return { done, readings };
}

export function pct(x: number): string {
  return `${Math.round(x * 1000) / 10} %`;
}

export function fmt(x: number | null): string {
  if (x === null) return 'n/a';
  if (!Number.isFinite(x)) return String(x);
  return String(Math.round(x * 1000) / 1000);
}
