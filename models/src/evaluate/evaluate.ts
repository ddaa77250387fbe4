/**
 * @module evaluate/evaluate
 * Runs model files on labelled images with ONNX Runtime's native binding and scores them. Each
 * batch of images is decoded once per distinct preprocessing and fed to every model that uses
 * it, so comparing two versions of one family costs one decode. Everything the models and images
 * can get wrong is an EvaluationError naming the model or item and what to do; it is meant to run
 * in its own process (cli.ts), never on a server's event loop.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession, Tensor, TypedTensor } from 'onnxruntime-node';
import { imageTensorShape, type ImagePreprocessing } from '@edgeloop/protocol';
import { ImageDecodeError, imageInto, itemLength } from './image-tensor.js';
import type { ErrorStats, EvaluationRequest, ModelEvaluation } from './request.js';

/** A model that does not load or fit its preprocessing, or an image that does not decode. */
export class EvaluationError extends Error {
  override readonly name = 'EvaluationError';
}

export interface EvaluateOptions {
  /** Relative paths in the request are resolved against this folder (the request file's). */
  baseDir: string;
  onProgress?: (done: number, total: number) => void;
}

type Ort = typeof OrtModule;

interface LoadedModel {
  key: string;
  spec: ImagePreprocessing;
  session: InferenceSession;
  input: string;
  inputType: string;
  output: string;
  /** Whether the first input dimension is dynamic (a batch); otherwise items run one by one. */
  batched: boolean;
  predictions: Float64Array;
}

const SUPPORTED_INPUT_TYPES = ['float32', 'float64', 'uint8', 'int8', 'int32'];

export async function evaluateModels(req: EvaluationRequest, opts: EvaluateOptions): Promise<ModelEvaluation[]> {
  const ort = await import('onnxruntime-node');
  const resolve = (p: string) => path.resolve(opts.baseDir, p);
  const models: LoadedModel[] = [];
  try {
    for (const [key, m] of Object.entries(req.models))
      models.push(await loadModel(ort, key, resolve(m.path), m.preprocessing, m.output, req));
    // Models sharing a preprocessing share the decoded batch.
    const bySpec = new Map<string, LoadedModel[]>();
    for (const m of models) {
      const id = JSON.stringify(m.spec);
      bySpec.set(id, [...(bySpec.get(id) ?? []), m]);
    }
    const total = req.items.length;
    for (let start = 0; start < total; start += req.batchSize) {
      const batch = req.items.slice(start, start + req.batchSize);
      const images = await Promise.all(batch.map((item, i) => readImage(resolve(item.path), start + i)));
      for (const group of bySpec.values()) {
        const spec = group[0]!.spec;
        const per = itemLength(spec);
        const data = new Float32Array(per * batch.length);
        await Promise.all(
          images.map(async (bytes, i) => {
            try {
              await imageInto(bytes, spec, data, i * per);
            } catch (err) {
              if (err instanceof ImageDecodeError)
                throw new EvaluationError(
                  `item ${start + i + 1} (${batch[i]!.path}): ${err.message}; remove it from the items or replace the file`,
                );
              throw err;
            }
          }),
        );
        for (const m of group) await predictBatch(ort, m, data, batch.length, per, start);
      }
      opts.onProgress?.(Math.min(start + batch.length, total), total);
    }
    return models.map((m) => score(m, req));
  } finally {
    await Promise.allSettled(models.map((m) => m.session.release()));
  }
}

async function loadModel(
  ort: Ort,
  key: string,
  file: string,
  spec: ImagePreprocessing,
  output: string | undefined,
  req: EvaluationRequest,
): Promise<LoadedModel> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new EvaluationError(`model "${key}": cannot read ${file} (${codeOf(err)}); check the path`);
  }
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: req.threads,
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new EvaluationError(
      `model "${key}" (${file}) does not load in ONNX Runtime: ${firstLine(err)}; it must be a valid .onnx file`,
    );
  }
  try {
    return describeModel(key, spec, session, output, req.items.length);
  } catch (err) {
    await session.release();
    throw err;
  }
}

/** Checks that the model takes the one image input its preprocessing makes and names the output read. */
function describeModel(
  key: string,
  spec: ImagePreprocessing,
  session: InferenceSession,
  output: string | undefined,
  items: number,
): LoadedModel {
  const inputs = session.inputMetadata;
  const input = inputs.find((i) => i.name === spec.input);
  if (!input || !input.isTensor)
    throw new EvaluationError(
      `model "${key}" has no tensor input "${spec.input}" (its inputs: ${session.inputNames.join(', ')}); preprocessing.input must name the image input`,
    );
  if (inputs.length > 1)
    throw new EvaluationError(
      `model "${key}" takes ${inputs.length} inputs (${session.inputNames.join(', ')}); only models fed by one image can be evaluated on images`,
    );
  if (!SUPPORTED_INPUT_TYPES.includes(input.type))
    throw new EvaluationError(
      `model "${key}": input "${input.name}" is ${input.type}; the evaluator feeds ${SUPPORTED_INPUT_TYPES.join(', ')}`,
    );
  const expected = imageTensorShape(spec);
  const shape = input.shape;
  const fits =
    shape.length === expected.length &&
    shape.every((d, i) => i === 0 || typeof d === 'string' || d === -1 || d === expected[i]);
  if (!fits)
    throw new EvaluationError(
      `model "${key}": input "${input.name}" has shape [${shape.join(', ')}] but the preprocessing makes [${expected.join(', ')}]; check width, height, layout and colorOrder`,
    );
  const outputName = output ?? (session.outputNames.length === 1 ? session.outputNames[0] : undefined);
  if (outputName === undefined || !session.outputNames.includes(outputName))
    throw new EvaluationError(
      output === undefined
        ? `model "${key}" has ${session.outputNames.length} outputs (${session.outputNames.join(', ')}); name the one to read as "output"`
        : `model "${key}" has no output "${output}" (its outputs: ${session.outputNames.join(', ')})`,
    );
  const first = shape[0];
  return {
    key,
    spec,
    session,
    input: input.name,
    inputType: input.type,
    output: outputName,
    batched: typeof first === 'string' || first === -1,
    predictions: new Float64Array(items),
  };
}

async function readImage(file: string, index: number): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new EvaluationError(`item ${index + 1}: cannot read ${file} (${codeOf(err)}); check the path`);
  }
}

/** Runs the batch (stacked, or item by item for a fixed batch of one) and keeps the predictions. */
async function predictBatch(
  ort: Ort,
  m: LoadedModel,
  data: Float32Array,
  n: number,
  per: number,
  offset: number,
): Promise<void> {
  const dims = imageTensorShape(m.spec).slice(1);
  const run = async (from: number, count: number) => {
    const feed = toTensor(ort, m.inputType, data.subarray(from * per, (from + count) * per), [count, ...dims]);
    let out: Tensor;
    try {
      const result = await m.session.run({ [m.input]: feed });
      out = result[m.output]!;
    } catch (err) {
      throw new EvaluationError(`model "${m.key}" failed to run on items ${offset + from + 1}…: ${firstLine(err)}`);
    }
    const values = out.data as ArrayLike<number | bigint>;
    const each = values.length / count;
    if (!Number.isInteger(each) || each < 1)
      throw new EvaluationError(
        `model "${m.key}": output "${m.output}" has ${values.length} values for ${count} images; it must give one prediction per image`,
      );
    // As the agent's regression postprocessing: the output's first value is the prediction.
    for (let i = 0; i < count; i++) m.predictions[offset + from + i] = Number(values[i * each]);
  };
  if (m.batched) await run(0, n);
  else for (let i = 0; i < n; i++) await run(i, 1);
}

function toTensor(ort: Ort, type: string, data: Float32Array, dims: number[]): Tensor {
  switch (type) {
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(data), dims);
    case 'uint8':
      return new ort.Tensor('uint8', Uint8Array.from(data), dims);
    case 'int8':
      return new ort.Tensor('int8', Int8Array.from(data), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(data), dims);
    default:
      return new ort.Tensor('float32', data, dims) as TypedTensor<'float32'>;
  }
}

function score(m: LoadedModel, req: EvaluationRequest): ModelEvaluation {
  const all = new Accumulator();
  const groups = new Map<string, Accumulator>();
  req.items.forEach((item, i) => {
    const prediction = m.predictions[i]!;
    all.add(prediction, item.label);
    if (item.group !== undefined) {
      let acc = groups.get(item.group);
      if (!acc) groups.set(item.group, (acc = new Accumulator()));
      acc.add(prediction, item.label);
    }
  });
  return {
    key: m.key,
    ...all.stats(),
    groups: Object.fromEntries([...groups].map(([g, acc]) => [g, acc.stats()])),
    ...(req.predictions ? { predictions: Array.from(m.predictions, (p) => (Number.isFinite(p) ? p : null)) } : {}),
  };
}

class Accumulator {
  private n = 0;
  private invalid = 0;
  private abs = 0;
  private sq = 0;
  private signed = 0;

  add(prediction: number, label: number): void {
    if (!Number.isFinite(prediction)) {
      this.invalid++;
      return;
    }
    const e = prediction - label;
    this.n++;
    this.abs += Math.abs(e);
    this.sq += e * e;
    this.signed += e;
  }

  stats(): ErrorStats {
    const n = this.n;
    return {
      count: n,
      invalid: this.invalid,
      mae: n ? this.abs / n : 0,
      rmse: n ? Math.sqrt(this.sq / n) : 0,
      bias: n ? this.signed / n : 0,
    };
  }
}

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

function firstLine(err: unknown): string {
  return String((err as Error).message ?? err)
    .split('\n')[0]!
    .slice(0, 500);
}
