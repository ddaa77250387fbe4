/**
 * @module predict/predictor
 * Where a prediction goes: input → tensor (preprocessing) → ONNX Runtime → postprocessing →
 * durable record in the buffer → answer. The record is committed before the caller gets a
 * result, which is what makes "HTTP 200" mean "will reach the fleet server".
 */
import { z } from 'zod';
import { describeZodError, elementCount, shapeMatches, type Manifest } from '@edgeloop/protocol';
import type { ActiveModels } from '../runtime/active-models.js';
import { makeTensor, tensorToNumbers, type TensorData } from '../runtime/model-runner.js';
import type { RecordBuffer } from '../store/record-buffer.js';
import { imageToTensor, InputError } from './image-input.js';

const MAX_ELEMENTS = 16 * 1024 * 1024;
const MAX_RECORDED_OUTPUT = 1024;

export const jsonInputSchema = z.object({
  inputs: z.record(
    z.string(),
    z.object({
      shape: z.array(z.number().int().min(0)).max(8),
      data: z.array(z.number()).max(MAX_ELEMENTS),
    }),
  ),
  requestId: z.string().min(1).max(128).optional(),
});
export type JsonInput = z.infer<typeof jsonInputSchema>;

export type PredictInput = { kind: 'json'; body: unknown } | { kind: 'image'; body: Uint8Array };

export interface PredictResult {
  model: string;
  version: number;
  outputs: Record<string, { shape: number[]; data: number[] }>;
  prediction: number | null;
  label?: string;
  latencyMs: number;
  requestId?: string;
  record: { stream: string; seq: number };
}

export class Predictor {
  constructor(
    private readonly models: ActiveModels,
    private readonly buffer: RecordBuffer,
    private readonly stream: string,
  ) {}

  /** The model addressed by name, or the only one when exactly one is active. */
  resolveModel(name: string | undefined): string {
    if (name !== undefined) {
      if (!this.models.get(name)) throw new InputError(`no active model named "${name}" (active: ${this.models.names().join(', ') || 'none'})`, 404);
      return name;
    }
    const names = this.models.names();
    if (names.length === 1) return names[0]!;
    if (names.length === 0) throw new InputError('no model is active yet; deploy one from the fleet server (edgeloop deploy NAME@VERSION --device ID)', 404);
    throw new InputError(`several models are active (${names.join(', ')}); use /v1/models/{name}/predict`, 400);
  }

  async predict(modelName: string | undefined, input: PredictInput, requestId?: string): Promise<PredictResult> {
    const name = this.resolveModel(modelName);
    const started = performance.now();
    const result = await this.models.use(name, async (runner) => {
      const { feeds, features, requestId: bodyRequestId } = await this.toFeeds(runner.manifest, input);
      const outputs = await runner.run(feeds);
      return { manifest: runner.manifest, outputs, features, requestId: requestId ?? bodyRequestId };
    });
    if (!result) throw new InputError(`model "${name}" was removed while the request was running; retry`, 404);
    const latencyMs = performance.now() - started;

    const { manifest, outputs, features } = result;
    const out: PredictResult['outputs'] = {};
    for (const spec of manifest.outputs) {
      const t = outputs[spec.name];
      if (t) out[spec.name] = { shape: [...t.dims], data: tensorToNumbers(t) };
    }
    const { prediction, label } = postprocess(manifest, out);
    const firstOutput = out[manifest.outputs[0]!.name]?.data ?? [];
    const seq = await this.buffer.append({
      ts: Date.now(),
      model: manifest.name,
      version: manifest.version,
      ...(result.requestId ? { requestId: result.requestId } : {}),
      output: firstOutput.slice(0, MAX_RECORDED_OUTPUT),
      prediction,
      latencyMs,
      features,
    });
    return {
      model: manifest.name,
      version: manifest.version,
      outputs: out,
      prediction,
      ...(label !== undefined ? { label } : {}),
      latencyMs,
      ...(result.requestId ? { requestId: result.requestId } : {}),
      record: { stream: this.stream, seq },
    };
  }

  private async toFeeds(manifest: Manifest, input: PredictInput) {
    if (input.kind === 'image') {
      const pre = manifest.preprocessing;
      if (pre.kind !== 'image') {
        throw new InputError(`model ${manifest.name} v${manifest.version} takes tensors, not images; send JSON {"inputs": {...}}`, 415);
      }
      const img = await imageToTensor(input.body, pre);
      const spec = manifest.inputs.find((i) => i.name === pre.input) ?? manifest.inputs[0]!;
      return { feeds: { [spec.name]: makeTensor(spec.dtype, img.data, img.shape) }, features: img.features, requestId: undefined };
    }
    const parsed = jsonInputSchema.safeParse(input.body);
    if (!parsed.success) throw new InputError(`invalid JSON input: ${describeZodError(parsed.error)}`);
    const feeds: Record<string, TensorData> = {};
    for (const spec of manifest.inputs) {
      const given = parsed.data.inputs[spec.name];
      if (!given) throw new InputError(`missing input "${spec.name}" (model expects ${manifest.inputs.map((i) => i.name).join(', ')})`, 422);
      if (!shapeMatches(spec.shape, given.shape)) {
        throw new InputError(`input "${spec.name}" has shape [${given.shape.join(', ')}], model expects [${spec.shape.join(', ')}]`, 422);
      }
      if (elementCount(given.shape) !== given.data.length) {
        throw new InputError(`input "${spec.name}": shape [${given.shape.join(', ')}] needs ${elementCount(given.shape)} values, got ${given.data.length}`, 422);
      }
      feeds[spec.name] = makeTensor(spec.dtype, given.data, given.shape);
    }
    const unknown = Object.keys(parsed.data.inputs).filter((k) => !manifest.inputs.some((i) => i.name === k));
    if (unknown.length) throw new InputError(`unknown input(s) ${unknown.join(', ')}; model expects ${manifest.inputs.map((i) => i.name).join(', ')}`, 422);
    const first = parsed.data.inputs[manifest.inputs[0]!.name]!.data;
    return { feeds, features: tensorFeatures(first), requestId: parsed.data.requestId };
  }
}

function postprocess(manifest: Manifest, out: PredictResult['outputs']): { prediction: number | null; label?: string } {
  const post = manifest.postprocessing;
  if (post.kind === 'regression') return { prediction: out[post.output]?.data[0] ?? null };
  if (post.kind === 'argmax') {
    const data = out[post.output]?.data ?? [];
    let best = -1;
    data.forEach((v, i) => { if (best < 0 || v > data[best]!) best = i; });
    if (best < 0) return { prediction: null };
    const label = post.labels?.[best];
    return { prediction: best, ...(label !== undefined ? { label } : {}) };
  }
  return { prediction: null };
}

function tensorFeatures(data: readonly number[]): Record<string, number> {
  if (data.length === 0) return {};
  let sum = 0, sq = 0, min = Infinity, max = -Infinity;
  for (const v of data) { sum += v; sq += v * v; if (v < min) min = v; if (v > max) max = v; }
  const mean = sum / data.length;
  return { mean, std: Math.sqrt(Math.max(0, sq / data.length - mean * mean)), min, max };
}
