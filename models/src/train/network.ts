/**
 * @module train/network
 * The trainable part of the reference model and its training loop in tfjs: standardised pooled
 * features → Dense(hidden) → ReLU → [Dense(hidden2) → ReLU] → Dense(1), output scaled back from
 * the standardised label to mm. Weights start from a seeded generator of our own and batches
 * follow a seeded shuffle, so a run is a pure function of data, params and seed.
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../reference-model.js';
import type { ReferenceParams } from './describe.js';

/** Plain-array weights: what the ONNX export and the parity check read. */
export interface NetworkWeights {
  /** Per-feature standardisation: (x - featureMean) * featureInvStd. */
  readonly featureMean: Float32Array;
  readonly featureInvStd: Float32Array;
  /** Dense layers in order; kernel is [in, out] row-major (tfjs and Gemm's B agree). */
  readonly layers: readonly { kernel: Float32Array; bias: Float32Array; inputs: number; units: number }[];
  /** Output = z * labelStd + labelMean. */
  readonly labelMean: number;
  readonly labelStd: number;
}

export interface EpochReport {
  readonly epoch: number;
  readonly loss: number;
  readonly valMae: number;
}

export interface TrainInput {
  /** Row-major [rows, features] training features. */
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly valX: Float32Array;
  readonly valY: Float32Array;
  readonly features: number;
}

/** Keeps a feature with (almost) no spread from being blown up by its inverse std. */
const MIN_STD = 1e-3;

export function trainNetwork(
  input: TrainInput,
  params: ReferenceParams,
  onEpoch: (report: EpochReport) => void,
): { weights: NetworkWeights; bestEpoch: number } {
  const { features } = input;
  const rows = input.y.length;
  const rand = mulberry32(params.seed);
  const [featureMean, featureInvStd] = columnStats(input.x, rows, features);
  const labelMean = Math.fround(mean(input.y));
  const labelStd = Math.fround(Math.max(std(input.y, labelMean), MIN_STD));

  const sizes = [features, params.hidden, ...(params.hidden2 > 0 ? [params.hidden2] : []), 1];
  const vars = sizes.slice(1).map((units, i) => {
    const inputs = sizes[i]!;
    // He-uniform for ReLU layers, Glorot-uniform for the linear output.
    const last = i === sizes.length - 2;
    const limit = last ? Math.sqrt(6 / (inputs + units)) : Math.sqrt(6 / inputs);
    const kernel = Float32Array.from({ length: inputs * units }, () => (rand() * 2 - 1) * limit);
    return {
      kernel: tf.variable(tf.tensor2d(kernel, [inputs, units])),
      bias: tf.variable(tf.zeros([units])),
      inputs,
      units,
    };
  });

  const norm = (x: tf.Tensor2D): tf.Tensor2D => x.sub(tf.tensor1d(featureMean)).mul(tf.tensor1d(featureInvStd));
  const forwardZ = (x: tf.Tensor2D): tf.Tensor2D => {
    let h = norm(x);
    vars.forEach((v, i) => {
      h = h.matMul(v.kernel).add(v.bias);
      if (i < vars.length - 1) h = tf.relu(h);
    });
    return h;
  };
  const toMm = (z: tf.Tensor2D): tf.Tensor2D => z.mul(labelStd).add(labelMean);

  const trainX = tf.tensor2d(input.x, [rows, features]);
  const trainZ = tf.tensor2d(
    input.y.map((v) => (v - labelMean) / labelStd),
    [rows, 1],
  );
  const valX = tf.tensor2d(input.valX, [input.valY.length, features]);
  const optimizer = tf.train.adam(params.learningRate);
  const order = Int32Array.from({ length: rows }, (_, i) => i);

  let best = { mae: Infinity, epoch: 0, weights: snapshot() };
  for (let epoch = 1; epoch <= params.epochs; epoch++) {
    shuffle(order, rand);
    let lossSum = 0;
    for (let start = 0; start < rows; start += params.batchSize) {
      const idx = tf.tensor1d(order.subarray(start, Math.min(rows, start + params.batchSize)), 'int32');
      const cost: tf.Scalar = tf.tidy(() => {
        const xb = trainX.gather(idx);
        const zb = trainZ.gather(idx);
        return optimizer.minimize(() => {
          const pred = forwardZ(xb);
          const fit =
            params.loss === 'huber'
              ? tf.losses.huberLoss(zb, pred, undefined, 1)
              : tf.losses.meanSquaredError(zb, pred);
          if (params.l2 === 0) return fit as tf.Scalar;
          const decay = tf.addN(vars.map((v) => v.kernel.square().sum()));
          return fit.add(decay.mul(params.l2)) as tf.Scalar;
        }, true)!;
      });
      lossSum += cost.dataSync()[0]! * idx.shape[0];
      cost.dispose();
      idx.dispose();
    }
    const valPred = tf.tidy(() => toMm(forwardZ(valX)).dataSync());
    const valMae = meanAbsError(valPred, input.valY);
    onEpoch({ epoch, loss: lossSum / rows, valMae });
    // Strictly better only: ties keep the earlier epoch, so the choice is deterministic.
    if (valMae < best.mae) best = { mae: valMae, epoch, weights: snapshot() };
  }
  trainX.dispose();
  trainZ.dispose();
  valX.dispose();
  optimizer.dispose();
  for (const v of vars) {
    v.kernel.dispose();
    v.bias.dispose();
  }
  return { weights: best.weights, bestEpoch: best.epoch };

  function snapshot(): NetworkWeights {
    return {
      featureMean,
      featureInvStd,
      layers: vars.map((v) => ({
        kernel: Float32Array.from(v.kernel.dataSync()),
        bias: Float32Array.from(v.bias.dataSync()),
        inputs: v.inputs,
        units: v.units,
      })),
      labelMean,
      labelStd,
    };
  }
}

/** The network's output in mm for row-major features, computed by tfjs in float32 as in training. */
export function predictTfjs(weights: NetworkWeights, x: Float32Array, rows: number): Float32Array {
  if (rows === 0) return new Float32Array(0);
  return tf.tidy(() => {
    const features = weights.featureMean.length;
    let h: tf.Tensor2D = tf
      .tensor2d(x, [rows, features])
      .sub(tf.tensor1d(weights.featureMean))
      .mul(tf.tensor1d(weights.featureInvStd));
    weights.layers.forEach((l, i) => {
      h = h.matMul(tf.tensor2d(l.kernel, [l.inputs, l.units])).add(tf.tensor1d(l.bias));
      if (i < weights.layers.length - 1) h = tf.relu(h);
    });
    return Float32Array.from(h.mul(weights.labelStd).add(weights.labelMean).dataSync());
  });
}

/**
 * The network's output in mm, evaluated in float64 from its float32 weights: the function the
 * run trained, without any engine's float32 rounding. Metrics and the parity check use it, so
 * the ONNX file is measured against what it should compute, not against another engine's
 * rounding (two float32 engines summing in different orders differ by a few ulps each).
 */
export function predict(weights: NetworkWeights, x: Float32Array, rows: number): Float64Array {
  const features = weights.featureMean.length;
  const out = new Float64Array(rows);
  const widest = Math.max(features, ...weights.layers.map((l) => l.units));
  let h = new Float64Array(widest),
    next = new Float64Array(widest);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < features; k++)
      h[k] = (x[r * features + k]! - weights.featureMean[k]!) * weights.featureInvStd[k]!;
    weights.layers.forEach((l, li) => {
      const relu = li < weights.layers.length - 1;
      for (let u = 0; u < l.units; u++) next[u] = l.bias[u]!;
      for (let k = 0; k < l.inputs; k++) {
        const v = h[k]!;
        if (v === 0) continue;
        const row = k * l.units;
        for (let u = 0; u < l.units; u++) next[u]! += v * l.kernel[row + u]!;
      }
      if (relu) for (let u = 0; u < l.units; u++) next[u] = Math.max(0, next[u]!);
      [h, next] = [next, h];
    });
    out[r] = h[0]! * weights.labelStd + weights.labelMean;
  }
  return out;
}

export function meanAbsError(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < truth.length; i++) sum += Math.abs(pred[i]! - truth[i]!);
  return truth.length ? sum / truth.length : 0;
}

function columnStats(x: Float32Array, rows: number, cols: number): [Float32Array, Float32Array] {
  const m = new Float64Array(cols);
  const s = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m[c]! += x[r * cols + c]!;
  for (let c = 0; c < cols; c++) m[c]! /= rows;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) s[c]! += (x[r * cols + c]! - m[c]!) ** 2;
  const inv = new Float32Array(cols);
  for (let c = 0; c < cols; c++) inv[c] = 1 / Math.max(Math.sqrt(s[c]! / rows), MIN_STD);
  return [Float32Array.from(m), inv];
}

function mean(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x;
  return s / v.length;
}

function std(v: Float32Array, m: number): number {
  let s = 0;
  for (const x of v) s += (x - m) ** 2;
  return Math.sqrt(s / v.length);
}

/** Fisher–Yates with the run's generator. */
function shuffle(order: Int32Array, rand: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
}
