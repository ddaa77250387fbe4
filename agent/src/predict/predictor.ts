/**
 * @module predict/predictor
 * Where a prediction goes: input → tensor (preprocessing) → ONNX Runtime → postprocessing →
 * durable record in the buffer → answer. The record is committed before the caller gets a
 * result, which is what makes "HTTP 200" mean "will reach the fleet server".
 *
 * A batch is N predictions with one model pinned for all of them: items that can be stacked run
 * as one ONNX Runtime call (predict/batch.ts), the rest one by one; every item becomes its own
 * record, and a bad item gets its own error without failing the others.
 *
 * Shadow: when a candidate version is loaded in the model's shadow slot, every committed record
 * hands its tensors to the ShadowRunner (runtime/shadow-runner.ts), which runs the candidate after
 * the answer, off the request's path. The answer always comes from the serving model.
 */
import { IMAGE_FEATURES, type ImageFeature, type Manifest } from '@edgeloop/protocol';
import type { ActiveModels } from '../runtime/active-models.js';
import { tensorToNumbers, type ModelRunner, type TensorData } from '../runtime/model-runner.js';
import type { RecordBuffer } from '../store/record-buffer.js';
import type { ShadowRunner } from '../runtime/shadow-runner.js';
import { batchGroups, stackFeeds, unstackOutputs } from './batch.js';
import { prepareInput, type PredictInput, type PreparedInput } from './feeds.js';
import { InputError } from './image-input.js';

export { jsonInputSchema, type JsonInput, type PredictInput } from './feeds.js';

const MAX_RECORDED_OUTPUT = 1024;

export interface PredictResult {
  model: string;
  version: number;
  outputs: Record<string, { shape: number[]; data: number[] }>;
  prediction: number | null;
  label?: string;
  latencyMs: number;
  requestId?: string;
  record: { stream: string; seq: number };
  /** A local drift alert fires for this model version (monitoring fallback `flag`). */
  drift?: true;
}

/** One batch item: a buffered result, or why this item (alone) failed. */
export type BatchItemResult =
  | { index: number; status: 200; result: PredictResult; batchSize: number }
  | { index: number; status: number; error: string; cause?: unknown };

export type PredictOutcome = 'ok' | 'invalid_input' | 'error';

/** What the metrics module hears about; called synchronously, must not throw. */
export interface PredictObserver {
  /** One per item that reached a model: `latencyMs` and `preprocessMs` only for outcome ok. */
  prediction(e: {
    model: string;
    version: number;
    outcome: PredictOutcome;
    latencyMs?: number;
    preprocessMs?: number;
  }): void;
  /** One per ONNX Runtime call. */
  inference(e: { model: string; version: number; batchSize: number; ms: number }): void;
}

/** The record fields a model's raw outputs become (also used for shadow records). */
export function recordBody(
  manifest: Manifest,
  outputs: Record<string, TensorData>,
): {
  output: number[];
  prediction: number | null;
  label?: string;
  confidence?: number;
  outputs: PredictResult['outputs'];
} {
  const out: PredictResult['outputs'] = {};
  for (const spec of manifest.outputs) {
    const t = outputs[spec.name];
    if (t) out[spec.name] = { shape: [...t.dims], data: tensorToNumbers(t) };
  }
  const { prediction, label, confidence } = postprocess(manifest, out);
  const firstOutput = out[manifest.outputs[0]!.name]?.data ?? [];
  return {
    output: firstOutput.slice(0, MAX_RECORDED_OUTPUT),
    prediction,
    ...(label !== undefined ? { label } : {}),
    ...(confidence !== undefined ? { confidence } : {}),
    outputs: out,
  };
}

export interface PredictorOptions {
  /** Which monitoring features to compute for a model's images (default: all). */
  featuresFor?: (model: string) => readonly ImageFeature[];
  observer?: PredictObserver;
  /** Runs the model's shadow candidate (if one is loaded) on each recorded request's tensors. */
  shadow?: ShadowRunner;
  /** Whether answers of this version are flagged `drift: true` (a local alert fires). */
  flagged?: (model: string, version: number) => boolean;
}

interface Prepared extends PreparedInput {
  preprocessMs: number;
}

interface Ran {
  prepared: Prepared;
  outputs: Record<string, TensorData>;
  /** This item's share of its ONNX Runtime call. */
  inferenceMs: number;
  batchSize: number;
}

export class Predictor {
  private readonly featuresFor: (model: string) => readonly ImageFeature[];
  private readonly observer: PredictObserver | undefined;
  private readonly shadow: ShadowRunner | undefined;
  private readonly flagged: ((model: string, version: number) => boolean) | undefined;

  constructor(
    private readonly models: ActiveModels,
    private readonly buffer: RecordBuffer,
    private readonly stream: string,
    opts: PredictorOptions = {},
  ) {
    this.featuresFor = opts.featuresFor ?? (() => IMAGE_FEATURES);
    this.observer = opts.observer;
    this.shadow = opts.shadow;
    this.flagged = opts.flagged;
  }

  /** The model addressed by name, or the only one when exactly one is active. */
  resolveModel(name: string | undefined): string {
    if (name !== undefined) {
      if (!this.models.get(name))
        throw new InputError(
          `no active model named "${name}" (active: ${this.models.names().join(', ') || 'none'})`,
          404,
        );
      return name;
    }
    const names = this.models.names();
    if (names.length === 1) return names[0]!;
    if (names.length === 0)
      throw new InputError(
        'no model is active yet; deploy one from the fleet server (edgeloop deploy NAME@VERSION --device ID)',
        404,
      );
    throw new InputError(`several models are active (${names.join(', ')}); use /v1/models/{name}/predict`, 400);
  }

  async predict(modelName: string | undefined, input: PredictInput, requestId?: string): Promise<PredictResult> {
    const name = this.resolveModel(modelName);
    const ran = await this.models.use(name, async (runner) => {
      let prepared: Prepared;
      try {
        prepared = await this.prepare(runner.manifest, input);
      } catch (err) {
        this.failed(runner.manifest, err);
        throw err;
      }
      if (requestId) prepared.requestId = requestId;
      try {
        return { manifest: runner.manifest, ran: (await this.runGroup(runner, [prepared]))[0]! };
      } catch (err) {
        this.failed(runner.manifest, err);
        throw err;
      }
    });
    if (!ran) throw new InputError(`model "${name}" was removed while the request was running; retry`, 404);
    return this.record(ran.manifest, ran.ran);
  }

  /** Every item is answered: a result, or its own error. Only a missing model fails the whole batch. */
  async predictBatch(modelName: string | undefined, inputs: readonly PredictInput[]): Promise<BatchItemResult[]> {
    const name = this.resolveModel(modelName);
    const done = await this.models.use(name, async (runner) => {
      const { manifest } = runner;
      const results: BatchItemResult[] = new Array(inputs.length);
      const ok: Array<{ index: number; prepared: Prepared }> = [];
      await Promise.all(
        inputs.map(async (input, index) => {
          try {
            ok.push({ index, prepared: await this.prepare(manifest, input) });
          } catch (err) {
            results[index] = this.itemError(manifest, index, err);
          }
        }),
      );
      ok.sort((a, b) => a.index - b.index);
      const ran = new Map<number, Ran>();
      for (const group of batchGroups(
        manifest,
        ok.map((o) => o.prepared.feeds),
      )) {
        const members = group.map((g) => ok[g]!);
        try {
          const out = await this.runGroup(
            runner,
            members.map((m) => m.prepared),
          );
          members.forEach((m, i) => ran.set(m.index, out[i]!));
        } catch (err) {
          if (members.length === 1) {
            results[members[0]!.index] = this.itemError(manifest, members[0]!.index, err);
            continue;
          }
          // A failed stacked call says nothing about which item broke it: retry alone, so only
          // the item that really fails gets an error.
          for (const m of members) {
            try {
              ran.set(m.index, (await this.runGroup(runner, [m.prepared]))[0]!);
            } catch (err) {
              results[m.index] = this.itemError(manifest, m.index, err);
            }
          }
        }
      }
      return { manifest, results, ran };
    });
    if (!done) throw new InputError(`model "${name}" was removed while the request was running; retry`, 404);
    // All appends in one tick: the buffer commits them in one transaction (group commit).
    await Promise.all(
      [...done.ran].map(async ([index, r]) => {
        try {
          done.results[index] = {
            index,
            status: 200,
            result: await this.record(done.manifest, r),
            batchSize: r.batchSize,
          };
        } catch (err) {
          done.results[index] = {
            index,
            status: 500,
            error: `the record could not be buffered: ${(err as Error).message}`,
            cause: err,
          };
        }
      }),
    );
    return done.results;
  }

  private async prepare(manifest: Manifest, input: PredictInput): Promise<Prepared> {
    const started = performance.now();
    const prepared = await prepareInput(manifest, input, this.featuresFor(manifest.name));
    return { ...prepared, preprocessMs: performance.now() - started };
  }

  /** Runs the items as one stacked call when there are several (falls back to one call each if the outputs are not batch-shaped). */
  private async runGroup(runner: ModelRunner, items: Prepared[]): Promise<Ran[]> {
    if (items.length > 1) {
      const { outputs, ms } = await this.infer(runner, stackFeeds(items.map((p) => p.feeds)), items.length);
      const split = unstackOutputs(outputs, items.length);
      if (split)
        return items.map((prepared, i) => ({
          prepared,
          outputs: split[i]!,
          inferenceMs: ms / items.length,
          batchSize: items.length,
        }));
    }
    const ran: Ran[] = [];
    for (const prepared of items) {
      const { outputs, ms } = await this.infer(runner, prepared.feeds, 1);
      ran.push({ prepared, outputs, inferenceMs: ms, batchSize: 1 });
    }
    return ran;
  }

  private async infer(runner: ModelRunner, feeds: Record<string, TensorData>, batchSize: number) {
    const started = performance.now();
    const outputs = await runner.run(feeds);
    const ms = performance.now() - started;
    this.observer?.inference({ model: runner.manifest.name, version: runner.manifest.version, batchSize, ms });
    return { outputs, ms };
  }

  /** Post-processes, commits the record, then answers. */
  private async record(manifest: Manifest, ran: Ran): Promise<PredictResult> {
    const latencyMs = ran.prepared.preprocessMs + ran.inferenceMs;
    const { outputs: out, output, prediction, label, confidence } = recordBody(manifest, ran.outputs);
    const requestId = ran.prepared.requestId;
    // Data time: a camera's or simulator's own clock when it gave one, so windows and
    // reference values bind to when the input was seen, not when it arrived.
    const ts = ran.prepared.capturedAt ?? Date.now();
    const seq = await this.buffer
      .append({
        ts,
        model: manifest.name,
        version: manifest.version,
        ...(requestId ? { requestId } : {}),
        output,
        prediction,
        latencyMs,
        features: ran.prepared.features,
        // Handed to input sampling after the commit, never stored in the buffer.
        ...(ran.prepared.raw
          ? { input: { ...ran.prepared.raw, ...(confidence !== undefined ? { confidence } : {}) } }
          : {}),
      })
      .catch((err: unknown) => {
        this.failed(manifest, err);
        throw err;
      });
    this.observer?.prediction({
      model: manifest.name,
      version: manifest.version,
      outcome: 'ok',
      latencyMs,
      preprocessMs: ran.prepared.preprocessMs,
    });
    // Only enqueued here; it runs after this answer went out (shadow-runner.ts).
    if (this.shadow?.has(manifest.name)) {
      this.shadow.submit({
        model: manifest.name,
        served: manifest,
        feeds: ran.prepared.feeds,
        features: ran.prepared.features,
        ts,
        ...(requestId ? { requestId } : {}),
      });
    }
    return {
      model: manifest.name,
      version: manifest.version,
      outputs: out,
      prediction,
      ...(label !== undefined ? { label } : {}),
      latencyMs,
      ...(requestId ? { requestId } : {}),
      record: { stream: this.stream, seq },
      ...(this.flagged?.(manifest.name, manifest.version) ? { drift: true as const } : {}),
    };
  }

  private failed(manifest: Manifest, err: unknown): void {
    this.observer?.prediction({
      model: manifest.name,
      version: manifest.version,
      outcome: err instanceof InputError ? 'invalid_input' : 'error',
    });
  }

  private itemError(manifest: Manifest, index: number, err: unknown): BatchItemResult {
    this.failed(manifest, err);
    if (err instanceof InputError) return { index, status: err.status, error: err.message };
    return { index, status: 500, error: `internal error: ${(err as Error)?.message ?? String(err)}`, cause: err };
  }
}

/** The prediction, its label, and (argmax) the top output value as the confidence input sampling uses. */
function postprocess(
  manifest: Manifest,
  out: PredictResult['outputs'],
): { prediction: number | null; label?: string; confidence?: number } {
  const post = manifest.postprocessing;
  if (post.kind === 'regression') return { prediction: out[post.output]?.data[0] ?? null };
  if (post.kind === 'argmax') {
    const data = out[post.output]?.data ?? [];
    let best = -1;
    data.forEach((v, i) => {
      if (best < 0 || v > data[best]!) best = i;
    });
    if (best < 0) return { prediction: null };
    const label = post.labels?.[best];
    return { prediction: best, confidence: data[best]!, ...(label !== undefined ? { label } : {}) };
  }
  return { prediction: null };
}
