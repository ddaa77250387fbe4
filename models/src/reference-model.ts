/**
 * @module reference-model
 *
 * The EdgeLoop reference model: a camera parking-distance aid that maps an image of the garage
 * wall to a distance in millimetres. Until the real trainer exists, its weights are synthetic:
 * the output is dominated by an explicit, interpretable term `bias + gain * mean(pixels)` plus a
 * small seeded MLP perturbation. That keeps predictions plausible (100–300 mm for normal
 * images), monotone in brightness (so tests can assert direction), and distinct per version
 * (so rollouts and error tracking visibly change when the model changes).
 */
import { attr, floatTensor, node, serializeModel, valueInfo } from './onnx-graph.js';

/** Model input: NCHW RGB, pixel values scaled to 0..1; -1 marks the dynamic batch axis. */
export const REFERENCE_INPUT = { name: 'image', dtype: 'float32', shape: [-1, 3, 48, 64] } as const;
/** Model output: one distance in mm per image. */
export const REFERENCE_OUTPUT = { name: 'distance', dtype: 'float32', shape: [-1, 1] } as const;

/** Symbolic name of the batch axis in the ONNX graph. */
export const BATCH_DIM = 'batch';
/** Side of the AveragePool window (and its stride); image sides must be multiples of it. */
export const POOL = 4;

export interface ReferenceModelOptions {
  /** PRNG seed for the perturbation weights; different seeds → different "versions". */
  seed: number;
  /** Input height in pixels (default 48). */
  height?: number;
  /** Input width in pixels (default 64). */
  width?: number;
  /** Hidden units of the perturbation MLP (default 16). */
  hidden?: number;
  /** Distance offset in mm for a black image (default 100). */
  bias?: number;
  /** mm added per unit of mean brightness (default 200). */
  gain?: number;
}

/** mulberry32: tiny, well-known 32-bit PRNG; integer-only math makes it identical on every platform. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(rand: () => number, count: number, scale: number): number[] {
  return Array.from({ length: count }, () => (rand() * 2 - 1) * scale);
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** Build the reference model for the given options; deterministic in all of them. */
export function buildReferenceModel(opts: ReferenceModelOptions): Uint8Array {
  const height = positiveInt('height', opts.height ?? 48);
  const width = positiveInt('width', opts.width ?? 64);
  const hidden = positiveInt('hidden', opts.hidden ?? 16);
  const bias = opts.bias ?? 100;
  const gain = opts.gain ?? 200;
  if (!Number.isInteger(opts.seed)) throw new RangeError(`seed must be an integer, got ${opts.seed}`);
  if (!Number.isFinite(bias) || !Number.isFinite(gain)) throw new RangeError('bias and gain must be finite');
  if (height % POOL !== 0 || width % POOL !== 0) {
    throw new RangeError(`height and width must be multiples of ${POOL}, got ${height}x${width}`);
  }

  // Pooling before the dense layers keeps the file small (~40 KB) while still letting the
  // perturbation depend on where brightness is, not only how much there is.
  const features = 3 * (height / POOL) * (width / POOL);
  const rand = mulberry32(opts.seed);
  // Weight scales are chosen so the MLP term stays within a few mm: large enough to look learned
  // and differ between seeds, small enough never to overturn the brightness trend.
  const w1 = uniform(rand, features * hidden, 1 / Math.sqrt(features));
  const b1 = uniform(rand, hidden, 0.1);
  const w2 = uniform(rand, hidden, 4);
  const b2 = uniform(rand, 1, 1);
  // Mean of the pooled features equals the mean of all pixels, since every pool window is full.
  const wMean = new Array<number>(features).fill(gain / features);

  const initializers = [
    floatTensor('mlp.w1', [features, hidden], w1),
    floatTensor('mlp.b1', [hidden], b1),
    floatTensor('mlp.w2', [hidden, 1], w2),
    floatTensor('mlp.b2', [1], b2),
    floatTensor('brightness.w', [features, 1], wMean),
    floatTensor('brightness.b', [1], [bias]),
  ];

  const nodes = [
    node({
      opType: 'AveragePool',
      inputs: [REFERENCE_INPUT.name],
      outputs: ['pooled'],
      attributes: { kernel_shape: attr.ints([POOL, POOL]), strides: attr.ints([POOL, POOL]) },
    }),
    node({ opType: 'Flatten', inputs: ['pooled'], outputs: ['features'], attributes: { axis: attr.int(1) } }),
    node({ opType: 'Gemm', inputs: ['features', 'mlp.w1', 'mlp.b1'], outputs: ['hidden'] }),
    node({ opType: 'Relu', inputs: ['hidden'], outputs: ['hidden_relu'] }),
    node({ opType: 'Gemm', inputs: ['hidden_relu', 'mlp.w2', 'mlp.b2'], outputs: ['perturbation'] }),
    node({ opType: 'Gemm', inputs: ['features', 'brightness.w', 'brightness.b'], outputs: ['brightness_mm'] }),
    node({ opType: 'Add', inputs: ['brightness_mm', 'perturbation'], outputs: [REFERENCE_OUTPUT.name] }),
  ];

  return serializeModel({
    docString: 'EdgeLoop reference parking-distance model: wall image -> distance in mm.',
    metadata: {
      'edgeloop.seed': String(opts.seed),
      'edgeloop.bias_mm': String(bias),
      'edgeloop.gain_mm': String(gain),
    },
    graph: {
      name: 'edgeloop_distance',
      nodes,
      initializers,
      inputs: [valueInfo(REFERENCE_INPUT.name, 'float32', [BATCH_DIM, 3, height, width])],
      outputs: [valueInfo(REFERENCE_OUTPUT.name, 'float32', [BATCH_DIM, 1])],
    },
  });
}
