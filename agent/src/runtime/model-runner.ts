/**
 * @module runtime/model-runner
 * One inference session per model version, created once and kept for the model's lifetime
 * (recreating sessions leaks memory in onnxruntime-node). Checks the signed tensor spec against
 * the model's own inputs/outputs at load time, so a mismatch fails the update, not a request.
 * Which ONNX Runtime build runs the session is the backend's business (runtime/backend.ts).
 */
import { imageTensorShape, type Manifest, type TensorDtype } from '@edgeloop/protocol';
import type { BackendSession, InferenceBackend, TensorData } from './backend.js';
import { selectBackend } from './select-backend.js';

export type { TensorData } from './backend.js';

export interface RunnerOptions {
  /** 0 = the backend's default (native: one per core; WASM: one). */
  intraOpThreads?: number;
  /** The agent always passes the backend it selected at start; without one, "auto" is used. */
  backend?: InferenceBackend;
}

let autoBackend: Promise<InferenceBackend> | undefined;

export class ModelRunner {
  private constructor(
    readonly manifest: Manifest,
    readonly backend: InferenceBackend,
    private readonly session: BackendSession,
  ) {}

  static async load(manifest: Manifest, modelBytes: Uint8Array, opts: RunnerOptions = {}): Promise<ModelRunner> {
    const backend = opts.backend ?? (await (autoBackend ??= selectBackend('auto')));
    const session = await backend.createSession(modelBytes, { intraOpThreads: opts.intraOpThreads ?? 0 });
    const runner = new ModelRunner(manifest, backend, session);
    try {
      runner.checkSpec();
      await runner.warmUp();
    } catch (err) {
      await session.release();
      throw err;
    }
    return runner;
  }

  private checkSpec(): void {
    const missingIn = this.manifest.inputs.filter((i) => !this.session.inputNames.includes(i.name)).map((i) => i.name);
    const missingOut = this.manifest.outputs
      .filter((o) => !this.session.outputNames.includes(o.name))
      .map((o) => o.name);
    if (missingIn.length || missingOut.length) {
      throw new Error(
        `model does not match its manifest: missing inputs [${missingIn.join(', ')}], outputs [${missingOut.join(', ')}]; ` +
          `the model has inputs [${this.session.inputNames.join(', ')}], outputs [${this.session.outputNames.join(', ')}]`,
      );
    }
  }

  /**
   * First inference allocates; doing it at load keeps that cost out of the first request. The
   * image input is warmed up at the size preprocessing will produce, so the buffers allocated
   * are the ones requests need (a detector with dynamic height/width would otherwise warm up at 1×1).
   */
  private async warmUp(): Promise<void> {
    const feeds: Record<string, TensorData> = {};
    for (const spec of this.manifest.inputs) {
      const imageShape = imageInputShape(this.manifest, spec.name);
      const shape = spec.shape.map((d, i) => {
        if (typeof d === 'number' && d > 0) return d;
        return imageShape?.length === spec.shape.length ? imageShape[i]! : 1;
      });
      feeds[spec.name] = zeros(spec.dtype, shape);
    }
    await this.session.run(feeds);
  }

  async run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
    return this.session.run(feeds);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** What the birth message reports as the device's runtime. */
export function runtimeInfo(backend: InferenceBackend): { name: string; version: string } {
  return { name: backend.name, version: backend.version };
}

function imageInputShape(manifest: Manifest, input: string): number[] | undefined {
  const pre = manifest.preprocessing;
  return pre.kind === 'image' && pre.input === input ? imageTensorShape(pre) : undefined;
}

type TypedArray = TensorData['data'];

export function makeTensor(
  dtype: TensorDtype,
  data: ArrayLike<number> | TypedArray,
  shape: readonly number[],
): TensorData {
  const dims = [...shape];
  const numbers = data as ArrayLike<number>;
  switch (dtype) {
    case 'float32':
      return { dtype, dims, data: data instanceof Float32Array ? data : Float32Array.from(numbers) };
    case 'float64':
      return { dtype, dims, data: Float64Array.from(numbers) };
    case 'uint8':
      return { dtype, dims, data: data instanceof Uint8Array ? data : Uint8Array.from(numbers) };
    case 'int8':
      return { dtype, dims, data: Int8Array.from(numbers) };
    case 'int32':
      return { dtype, dims, data: Int32Array.from(numbers) };
    case 'int64':
      return {
        dtype,
        dims,
        data:
          data instanceof BigInt64Array ? data : BigInt64Array.from(Array.from(numbers, (v) => BigInt(Math.trunc(v)))),
      };
    case 'bool':
      return { dtype, dims, data: Uint8Array.from(numbers, (v) => (v ? 1 : 0)) };
  }
}

function zeros(dtype: TensorDtype, shape: number[]): TensorData {
  const n = shape.reduce((a, b) => a * b, 1);
  return makeTensor(dtype, new Array<number>(n).fill(0), shape);
}

export function tensorToNumbers(t: TensorData): number[] {
  const data = t.data as ArrayLike<number | bigint>;
  return Array.from(data, (v) => Number(v));
}
