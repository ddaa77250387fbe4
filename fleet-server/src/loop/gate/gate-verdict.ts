/**
 * @module loop/gate/gate-verdict
 * The gate's rule, as a pure function of the holdout numbers and the policy's gate spec. A
 * challenger is accepted only when
 *
 * - on the recent holdout (drifted data the champion did not train on) there are at least
 *   minHoldout items and its MAE ≤ (1 − minImprovement) × the champion's: it must be clearly better
 *   where the champion fails; and
 * - on the original holdout (the champion's own training holdout), when there is one with at least
 *   minHoldout items, its MAE ≤ (1 + originalTolerance) × the champion's: it must not forget.
 *
 * A missing or small original holdout does not block (there is nothing to forget to measure), but
 * the reasons say so. A challenger that gives a non-finite prediction (NaN, ∞) on a holdout fails
 * that side. Every reason is a sentence with the numbers it was decided on.
 */
import type { GateComparison, HoldoutComparison, LoopPolicy } from '@edgeloop/protocol/rest';

export type GateSpec = LoopPolicy['gate'];

/** Both models' error on one holdout. */
export interface HoldoutScores {
  /** Holdout items both models were run on. */
  count: number;
  champion: { mae: number; rmse: number };
  challenger: { mae: number; rmse: number };
  /** Challenger predictions that were NaN or infinite (left out of its MAE): any fails the side. */
  challengerInvalid?: number;
}

export interface VerdictInput {
  champion: GateComparison['champion'];
  challenger: GateComparison['challenger'];
  /** null: no recent holdout items at all (recentMissing says why). */
  recent: HoldoutScores | null;
  recentMissing?: string;
  /** null: the champion has no training holdout to compare on (originalMissing says why). */
  original: HoldoutScores | null;
  originalMissing?: string;
  gate: GateSpec;
  /** The prediction's unit (the manifest's postprocessing), for the sentences. */
  unit?: string;
  evaluatedAt: number;
}

/** A ratio against a champion MAE of 0 has no finite value; it is reported as this. */
export const RATIO_CAP = 1e6;

export function gateVerdict(input: VerdictInput): GateComparison {
  const { gate } = input;
  const unit = input.unit ? ` ${input.unit}` : '';
  const reasons: string[] = [];

  const recentFactor = 1 - gate.minImprovement;
  let recent: HoldoutComparison | null = null;
  if (input.recent === null) {
    reasons.push(
      `There is no recent holdout to judge the challenger on (${input.recentMissing ?? 'the new dataset has no holdout items the champion did not train on'}); the gate needs at least ${gate.minHoldout} recent holdout items.`,
    );
  } else {
    recent = judge(input.recent, recentFactor, gate.minHoldout);
    const s = input.recent;
    if (recent.passed === null)
      reasons.push(
        `Only ${s.count} recent holdout items, fewer than the ${gate.minHoldout} the policy asks for, so the challenger cannot be judged on recent data; collect more recent samples or lower gate.minHoldout.`,
      );
    else if (invalid(s) > 0)
      reasons.push(
        `The challenger gave ${invalid(s)} non-finite predictions (NaN or infinite) on the ${s.count} recent holdout items.`,
      );
    else
      reasons.push(
        `Challenger MAE ${mm(s.challenger.mae)}${unit} on ${s.count} recent holdout items is ${times(ratioOf(s), recentFactor)} × the champion's ${mm(s.champion.mae)}${unit}; ` +
          (recent.passed
            ? `within the policy's ≤ ${recentFactor.toFixed(2)} ×.`
            : `the policy asks ≤ ${recentFactor.toFixed(2)} × (at least ${pct(gate.minImprovement)} better), so the challenger is not better enough on recent data.`),
      );
  }

  const originalFactor = 1 + gate.originalTolerance;
  let original: HoldoutComparison | null = null;
  if (input.original === null) {
    reasons.push(
      `There is no original holdout (${input.originalMissing ?? 'the champion names no training dataset'}), so whether the challenger forgot what the champion knew is not checked; it was judged on recent data only.`,
    );
  } else {
    original = judge(input.original, originalFactor, gate.minHoldout);
    const s = input.original;
    if (original.passed === null)
      reasons.push(
        `Only ${s.count} original holdout items, fewer than the ${gate.minHoldout} the policy asks for, so the original holdout was not judged; the challenger was judged on recent data only.`,
      );
    else if (invalid(s) > 0)
      reasons.push(
        `The challenger gave ${invalid(s)} non-finite predictions (NaN or infinite) on the ${s.count} original holdout items.`,
      );
    else
      reasons.push(
        `Challenger MAE ${mm(s.challenger.mae)}${unit} on ${s.count} original holdout items is ${times(ratioOf(s), originalFactor)} × the champion's ${mm(s.champion.mae)}${unit}; ` +
          (original.passed
            ? `within the policy's ≤ ${originalFactor.toFixed(2)} ×.`
            : `the policy allows ≤ ${originalFactor.toFixed(2)} × (at most ${pct(gate.originalTolerance)} worse), so the challenger lost too much of what the champion knew.`),
      );
  }

  const accepted = recent?.passed === true && original?.passed !== false;
  return {
    champion: input.champion,
    challenger: input.challenger,
    recent,
    original,
    minImprovement: gate.minImprovement,
    originalTolerance: gate.originalTolerance,
    verdict: accepted ? 'accepted' : 'rejected',
    reasons,
    evaluatedAt: input.evaluatedAt,
  };
}

/** One side: its numbers and whether challenger MAE ≤ factor × champion MAE held (null: too few items). */
function judge(s: HoldoutScores, factor: number, minHoldout: number): HoldoutComparison {
  const ratio = ratioOf(s);
  const passed = s.count < minHoldout ? null : invalid(s) === 0 && s.challenger.mae <= factor * s.champion.mae;
  return {
    count: s.count,
    champion: { mae: round(s.champion.mae), rmse: round(s.champion.rmse) },
    challenger: { mae: round(s.challenger.mae), rmse: round(s.challenger.rmse) },
    ratio: round(ratio),
    passed,
  };
}

/** challenger MAE ÷ champion MAE, capped (against a champion MAE of 0: 1 when both are 0). */
function ratioOf(s: HoldoutScores): number {
  if (s.champion.mae > 0) return Math.min(s.challenger.mae / s.champion.mae, RATIO_CAP);
  return s.challenger.mae === 0 ? 1 : RATIO_CAP;
}

const invalid = (s: HoldoutScores) => s.challengerInvalid ?? 0;

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** An error in the unit of the prediction: one decimal, two below 1. */
function mm(x: number): string {
  return Math.abs(x) >= 1 ? x.toFixed(1) : x.toFixed(2);
}

/** A ratio to two decimals, or as many more as it takes not to read the same as the limit it missed or met. */
function times(ratio: number, limit: number): string {
  if (ratio === limit) return ratio.toFixed(2);
  for (let digits = 2; digits <= 8; digits++) {
    const text = ratio.toFixed(digits);
    if (text !== limit.toFixed(digits)) return text;
  }
  return String(ratio);
}

function pct(share: number): string {
  return `${Math.round(share * 1000) / 10} %`;
}
