/**
 * @module console/client/try-model/postprocess
 * What a model's outputs mean, as the agent reads them (agent/src/predict/predictor.ts): a
 * regression's first value with its unit, an argmax's best index with its label and score (plus
 * every class's score, ranked, for the page), or nothing for raw outputs.
 */
import type { Postprocessing } from '@edgeloop/protocol/browser';

/** One output as plain numbers, as the agent records it. */
export interface OutputValues {
  shape: number[];
  data: number[];
}

export interface Interpretation {
  kind: Postprocessing['kind'];
  /** The regression value or the argmax index; null for raw outputs or an empty output. */
  prediction: number | null;
  unit?: string;
  label?: string;
  /** argmax: the winning score (what the agent records as confidence). */
  confidence?: number;
  /** argmax: every class with its score, best first. */
  ranking?: { index: number; label?: string; score: number }[];
}

export function interpret(post: Postprocessing, outputs: Record<string, OutputValues>): Interpretation {
  if (post.kind === 'regression')
    return {
      kind: 'regression',
      prediction: outputs[post.output]?.data[0] ?? null,
      ...(post.unit !== undefined ? { unit: post.unit } : {}),
    };
  if (post.kind === 'argmax') {
    const data = outputs[post.output]?.data ?? [];
    let best = -1;
    data.forEach((v, i) => {
      if (best < 0 || v > data[best]!) best = i;
    });
    if (best < 0) return { kind: 'argmax', prediction: null };
    const ranking = data
      .map((score, index) => ({
        index,
        score,
        ...(post.labels?.[index] !== undefined ? { label: post.labels[index] } : {}),
      }))
      .sort((a, b) => b.score - a.score || a.index - b.index);
    const label = post.labels?.[best];
    return {
      kind: 'argmax',
      prediction: best,
      confidence: data[best]!,
      ...(label !== undefined ? { label } : {}),
      ranking,
    };
  }
  return { kind: 'raw', prediction: null };
}
