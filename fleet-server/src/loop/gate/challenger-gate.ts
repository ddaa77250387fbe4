/**
 * @module loop/gate/challenger-gate
 * The loop's gate step: the challenger (a succeeded training run's model) against the serving
 * champion on the two holdouts (holdouts.ts), both run as a device would run them by the models
 * package's evaluator in a child process, so inference never blocks the server. The models and
 * images go to a scratch folder under workDir, removed afterwards; the verdict is gate-verdict.ts's.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EvaluatorError, runEvaluator, type ErrorStats, type ModelEvaluation } from '@edgeloop/models/evaluate';
import type { ImagePreprocessing, Postprocessing, Preprocessing } from '@edgeloop/protocol';
import type { GateComparison } from '@edgeloop/protocol/rest';
import type { BlobStore } from '../../store/blobs/blob-store.js';
import type { FleetStore, ModelVersionRecord, TrainingRunRecord } from '../../store/fleet-store.js';
import { gateVerdict, type GateSpec, type HoldoutScores } from './gate-verdict.js';
import { loopHoldouts, writeHoldoutImages, type HoldoutItem } from './holdouts.js';

export interface ChallengerGateOptions {
  store: FleetStore;
  /** The samples' blob store: where dataset images live. */
  blobs: BlobStore;
  /** The training artifact store: registered versions' and runs' model files. */
  artifacts: BlobStore;
  /** The serving version the challenger must beat. */
  champion: ModelVersionRecord;
  /** A succeeded run (its model in `artifacts`). */
  challenger: TrainingRunRecord;
  /** The snapshot the challenger was trained on (the recent holdout comes from it). */
  newDatasetId: string;
  gate: GateSpec;
  /** Scratch space; a folder per evaluation is made and removed in it. */
  workDir: string;
  signal?: AbortSignal;
  /** For the evaluator (default 10 minutes). */
  timeoutMs?: number;
  /** Items per holdout at most (default holdouts.ts's 5000). */
  maxHoldoutItems?: number;
  now?: () => number;
}

/** Thrown when the gate cannot compare at all (no model to run, a model or image the evaluator refuses). */
export class GateError extends Error {
  override readonly name = 'GateError';
}

export async function evaluateChallenger(opts: ChallengerGateOptions): Promise<GateComparison> {
  const { champion, challenger } = opts;
  if (challenger.status !== 'succeeded' || !challenger.modelSha256 || challenger.modelSize === null)
    throw new GateError(
      `training run ${challenger.id} is ${challenger.status} and has no model to judge; only a succeeded run goes through the gate`,
    );
  const championPre = imagePreprocessing(champion.manifest.preprocessing, `${champion.name} v${champion.version}`);
  // As TrainingService.register: without the trainer's own meta, the champion's handling carries over.
  const challengerPre = imagePreprocessing(
    challenger.meta?.preprocessing ?? champion.manifest.preprocessing,
    `training run ${challenger.id}`,
  );
  const championPost = champion.manifest.postprocessing;
  const challengerPost = challenger.meta?.postprocessing ?? championPost;

  const holdouts = await loopHoldouts(opts.store, {
    champion,
    newDatasetId: opts.newDatasetId,
    ...(opts.maxHoldoutItems !== undefined ? { maxItems: opts.maxHoldoutItems } : {}),
  });
  const sides: Array<['recent' | 'original', HoldoutItem[]]> = [['recent', holdouts.recent]];
  if (holdouts.original) sides.push(['original', holdouts.original]);
  const items = sides.flatMap(([group, list]) => list.map((item) => ({ item, group })));

  const scores: Partial<Record<'recent' | 'original', HoldoutScores>> = {};
  if (items.length > 0) {
    const dir = join(opts.workDir, `gate-${randomBytes(5).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    try {
      await writeFile(join(dir, 'champion.onnx'), await opts.artifacts.readRange(champion.sha256, 0, champion.size));
      await writeFile(
        join(dir, 'challenger.onnx'),
        await opts.artifacts.readRange(challenger.modelSha256, 0, challenger.modelSize),
      );
      const files = await writeHoldoutImages(
        opts.blobs,
        items.map((i) => i.item),
        dir,
      );
      const results = await evaluate(
        {
          models: {
            champion: { path: 'champion.onnx', preprocessing: championPre, ...outputOf(championPost) },
            challenger: { path: 'challenger.onnx', preprocessing: challengerPre, ...outputOf(challengerPost) },
          },
          items: items.map(({ item, group }) => ({ path: files.get(item.sha256)!, label: item.label, group })),
        },
        {
          workDir: dir,
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
        },
      );
      for (const [group, list] of sides) scores[group] = sideScores(results, group, list.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const unit = championPost.kind === 'regression' ? championPost.unit : undefined;
  return gateVerdict({
    champion: { model: champion.name, version: champion.version },
    challenger: { trainingRunId: challenger.id, modelSha256: challenger.modelSha256 },
    recent: scores.recent ?? null,
    ...(holdouts.recentMissing ? { recentMissing: holdouts.recentMissing } : {}),
    original: scores.original ?? null,
    ...(holdouts.originalMissing ? { originalMissing: holdouts.originalMissing } : {}),
    gate: opts.gate,
    ...(unit ? { unit } : {}),
    evaluatedAt: opts.now?.() ?? Date.now(),
  });
}

/** The evaluator's refusals and failures as the gate's; a cancellation stays an EvaluatorError ('cancelled'). */
async function evaluate(...args: Parameters<typeof runEvaluator>): Promise<Record<string, ModelEvaluation>> {
  try {
    return await runEvaluator(...args);
  } catch (err) {
    if (err instanceof EvaluatorError && err.reason !== 'cancelled')
      throw new GateError(`the gate could not evaluate the models: ${err.message}`, { cause: err });
    throw err;
  }
}

function imagePreprocessing(pre: Preprocessing | undefined, whose: string): ImagePreprocessing {
  if (pre?.kind !== 'image')
    throw new GateError(
      `${whose} is not fed images (preprocessing kind "${pre?.kind ?? 'none'}"); the gate judges image models on their holdout images`,
    );
  return pre;
}

/** The output read as the prediction: the regression output, else the model's only one. */
function outputOf(post: Postprocessing): { output?: string } {
  if (post.kind === 'argmax')
    throw new GateError(
      `the gate compares regression models by their error; a classifier (postprocessing "argmax") cannot be judged by MAE`,
    );
  return post.kind === 'regression' ? { output: post.output } : {};
}

function sideScores(results: Record<string, ModelEvaluation>, group: string, count: number): HoldoutScores {
  const of = (key: 'champion' | 'challenger'): ErrorStats => {
    const stats = results[key]?.groups[group];
    if (!stats) throw new GateError(`the evaluator answered no ${group} holdout numbers for the ${key}`);
    return stats;
  };
  const champion = of('champion'),
    challenger = of('challenger');
  return {
    count,
    champion: { mae: champion.mae, rmse: champion.rmse },
    challenger: { mae: challenger.mae, rmse: challenger.rmse },
    challengerInvalid: challenger.invalid,
  };
}
