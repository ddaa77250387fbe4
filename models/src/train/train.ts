/**
 * @module train/train
 * One run of the built-in reference trainer: dataset folder in, the contract's files out
 * (model.onnx, metrics.json, baseline.json, meta.json; the caller owns train.log). Steps:
 * read and check the folder, decode every image as the agent will, pool, train the dense
 * layers, evaluate on validation and holdout, summarise the training split for drift detection,
 * export ONNX.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  FEATURE_EDGES,
  IMAGE_FEATURES,
  TRAINER_OUTPUTS,
  histogramOf,
  imageFeatures,
  trainerMetricsSchema,
  trainingSummarySchema,
  valueEdges,
  type ErrorMetrics,
  type TrainerMetrics,
  type TrainerProgress,
  type TrainingSummary,
} from '@edgeloop/protocol';
import { initBackend, type BackendName } from './backend.js';
import { readDataset, DatasetError, type LoadedItem } from './dataset-reader.js';
import { TRAINER_NAME, TRAINER_VERSION, type ReferenceParams } from './describe.js';
import { exportOnnx } from './export-onnx.js';
import { featureCount, pooledFeatures } from './features.js';
import { predict, predictTfjs, trainNetwork, type NetworkWeights } from './network.js';
import { decodeImage, REFERENCE_META, REFERENCE_PREPROCESSING } from './preprocess.js';

export interface TrainOptions {
  readonly datasetDir: string;
  readonly outDir: string;
  readonly params: ReferenceParams;
  readonly log?: (line: string) => void;
  readonly progress?: (p: TrainerProgress) => void;
  readonly backend?: BackendName;
}

export interface TrainResult {
  readonly metrics: TrainerMetrics;
  readonly weights: NetworkWeights;
  readonly model: Uint8Array;
  readonly backend: BackendName;
  /**
   * Holdout inputs and the trainer's predictions on them (for parity checks): exact (float64,
   * what metrics use) and as tfjs computes them in float32.
   */
  readonly holdout: {
    readonly inputs: Float32Array[];
    readonly predictions: Float64Array;
    readonly tfjsPredictions: Float32Array;
  };
}

/** Images decoded at once: enough to keep sharp's threads busy, few enough to bound memory. */
const DECODE_CONCURRENCY = 8;

interface Prepared {
  readonly item: LoadedItem;
  /** Pooled features (the fixed front's output). */
  readonly features: Float32Array;
  /** 8-bit RGB, kept for the training split's monitoring features. */
  readonly rgb: Uint8Array | undefined;
  /** The model input, kept for the holdout's parity check only (36 KiB an image). */
  readonly input: Float32Array | undefined;
}

export async function trainReference(opts: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const progress = opts.progress ?? (() => {});
  const { params } = opts;
  const backend = await initBackend(opts.backend);
  log(`${TRAINER_NAME} ${TRAINER_VERSION}: backend ${backend}, params ${JSON.stringify(params)}`);

  progress({ type: 'phase', phase: 'loading' });
  const dataset = await readDataset(opts.datasetDir);
  log(`dataset ${dataset.manifest?.id ?? opts.datasetDir}: ${dataset.items.length} items`);
  const decodeStart = performance.now();
  const prepared = await decodeAll(dataset.items, params.pool, progress);
  log(`decoded ${prepared.length} images in ${Math.round(performance.now() - decodeStart)} ms`);
  const bySplit = (s: LoadedItem['split']) => prepared.filter((p) => p.item.split === s);
  const train = bySplit('train'),
    validation = bySplit('validation'),
    holdout = bySplit('holdout');
  log(`splits: train ${train.length}, validation ${validation.length}, holdout ${holdout.length}`);

  const features = featureCount(params.pool);
  const matrix = (rows: Prepared[]) => {
    const x = new Float32Array(rows.length * features);
    rows.forEach((r, i) => x.set(r.features, i * features));
    return x;
  };
  const labels = (rows: Prepared[]) => Float32Array.from(rows, (r) => r.item.label);
  const trainX = matrix(train),
    trainY = labels(train);

  progress({ type: 'phase', phase: 'training', done: 0, total: params.epochs });
  const trainStart = performance.now();
  const { weights, bestEpoch } = trainNetwork(
    { x: trainX, y: trainY, valX: matrix(validation), valY: labels(validation), features },
    params,
    (e) =>
      progress({
        type: 'epoch',
        epoch: e.epoch,
        epochs: params.epochs,
        loss: round(e.loss, 6),
        valMae: round(e.valMae, 4),
      }),
  );
  log(
    `trained in ${Math.round(performance.now() - trainStart)} ms; best validation MAE at epoch ${bestEpoch} of ${params.epochs}`,
  );

  progress({ type: 'phase', phase: 'evaluating' });
  const evaluate = (rows: Prepared[]) => {
    const pred = predict(weights, matrix(rows), rows.length);
    return { pred, metrics: errorMetrics(pred, labels(rows)) };
  };
  const trainEval = evaluate(train);
  const valEval = evaluate(validation);
  const holdEval = evaluate(holdout);
  const trainMean = trainY.reduce((s, v) => s + v, 0) / trainY.length;
  const baselineOn = holdout.length ? holdout : validation;
  const meanBaselineMae = baselineOn.reduce((s, r) => s + Math.abs(r.item.label - trainMean), 0) / baselineOn.length;

  progress({ type: 'phase', phase: 'exporting' });
  const model = exportOnnx(weights, {
    pool: params.pool,
    metadata: {
      'edgeloop.trainer': `${TRAINER_NAME}@${TRAINER_VERSION}`,
      'edgeloop.params': JSON.stringify(params),
      ...(dataset.manifest ? { 'edgeloop.dataset': dataset.manifest.id } : {}),
    },
  });
  const metrics = trainerMetricsSchema.parse({
    validation: valEval.metrics,
    ...(holdout.length ? { holdout: holdEval.metrics } : {}),
    train: trainEval.metrics,
    meanBaselineMae: round(meanBaselineMae, 4),
    epochs: params.epochs,
    durationMs: Math.round(performance.now() - started),
    extra: { bestEpoch, features, ...(backend === 'wasm' ? { wasm: 1 } : { wasm: 0 }) },
  });
  const baseline = summarise(train, trainEval.pred);

  await writeFile(path.join(opts.outDir, TRAINER_OUTPUTS.model), model);
  await writeJson(path.join(opts.outDir, TRAINER_OUTPUTS.metrics), metrics);
  await writeJson(path.join(opts.outDir, TRAINER_OUTPUTS.baseline), baseline);
  await writeJson(path.join(opts.outDir, TRAINER_OUTPUTS.meta), REFERENCE_META);
  log(
    `validation MAE ${metrics.validation.mae} mm, holdout MAE ${metrics.holdout?.mae ?? '-'} mm (predicting the mean: ${metrics.meanBaselineMae} mm), ${metrics.durationMs} ms`,
  );
  return {
    metrics,
    weights,
    model,
    backend,
    holdout: {
      inputs: holdout.map((h) => h.input!),
      predictions: holdEval.pred,
      tfjsPredictions: predictTfjs(weights, matrix(holdout), holdout.length),
    },
  };
}

async function decodeAll(
  items: readonly LoadedItem[],
  pool: number,
  progress: (p: TrainerProgress) => void,
): Promise<Prepared[]> {
  const out: Prepared[] = new Array(items.length);
  let next = 0,
    done = 0;
  const step = Math.max(1, Math.ceil(items.length / 10));
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i]!;
      try {
        const { tensor, rgb } = await decodeImage(item.bytes, REFERENCE_PREPROCESSING);
        out[i] = {
          item,
          features: pooledFeatures(tensor, pool),
          rgb: item.split === 'train' ? rgb : undefined,
          input: item.split === 'holdout' ? tensor : undefined,
        };
      } catch (err) {
        throw new DatasetError(
          `labels.jsonl line ${item.line}: image ${item.file} cannot be decoded (${(err as Error).message}); replace or remove it`,
        );
      }
      if (++done % step === 0 || done === items.length) {
        progress({ type: 'phase', phase: 'loading', done, total: items.length });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DECODE_CONCURRENCY, items.length) }, worker));
  return out;
}

function errorMetrics(pred: Float64Array, truth: Float32Array): ErrorMetrics {
  let abs = 0,
    sq = 0;
  for (let i = 0; i < truth.length; i++) {
    const d = pred[i]! - truth[i]!;
    abs += Math.abs(d);
    sq += d * d;
  }
  const n = truth.length;
  return { mae: n ? round(abs / n, 4) : 0, rmse: n ? round(Math.sqrt(sq / n), 4) : 0, count: n };
}

/** The training split as drift detection will compare live data against it. */
function summarise(train: Prepared[], predictions: Float64Array): TrainingSummary {
  const { width, height } = REFERENCE_PREPROCESSING;
  const values: Record<string, number[]> = {};
  for (const row of train) {
    for (const [name, v] of Object.entries(imageFeatures(row.rgb!, width, height, IMAGE_FEATURES))) {
      (values[name] ??= []).push(v);
    }
  }
  const featureHistograms: TrainingSummary['features'] = {};
  for (const [name, edges] of Object.entries(FEATURE_EDGES)) {
    if (values[name]) featureHistograms[name] = histogramOf(values[name], edges);
  }
  let lo = Infinity,
    hi = -Infinity;
  for (const r of train) {
    lo = Math.min(lo, r.item.label);
    hi = Math.max(hi, r.item.label);
  }
  const edges = valueEdges(lo, hi);
  return trainingSummarySchema.parse({
    count: train.length,
    features: featureHistograms,
    prediction: histogramOf(predictions, edges),
    reference: histogramOf(
      train.map((r) => r.item.label),
      edges,
    ),
  });
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}
