/**
 * @module runtime/model-runner
 * One ONNX Runtime session per model version, created once and kept for the model's lifetime
 * (recreating sessions leaks memory in onnxruntime-node). Checks the signed tensor spec against
 * the model's own inputs/outputs at load time, so a mismatch fails the update, not a request.
 */
import * as ort from 'onnxruntime-node';
import type { Manifest, TensorDtype } from '@edgeloop/protocol';

export type OrtTensor = ort.Tensor;

export interface RunnerOptions {
  /** 0 = let ONNX Runtime pick (one per core). */
  intraOpThreads?: number;
}

export class ModelRunner {
  private constructor(
    readonly manifest: Manifest,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(manifest: Manifest, modelBytes: Uint8Array, opts: RunnerOptions = {}): Promise<ModelRunner> {
    const session = await ort.InferenceSession.create(modelBytes, {
      intraOpNumThreads: opts.intraOpThreads ?? 0,
      graphOptimizationLevel: 'all',
    });
    const runner = new ModelRunner(manifest, session);
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
    const missingOut = this.manifest.outputs.filter((o) => !this.session.outputNames.includes(o.name)).map((o) => o.name);
    if (missingIn.length || missingOut.length) {
      throw new Error(
        `model does not match its manifest: missing inputs [${missingIn.join(', ')}], outputs [${missingOut.join(', ')}]; ` +
          `the model has inputs [${this.session.inputNames.join(', ')}], outputs [${this.session.outputNames.join(', ')}]`,
      );
    }
  }

  /** First inference allocates; doing it at load keeps that cost out of the first request. */
  private async warmUp(): Promise<void> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const spec of this.manifest.inputs) {
      const shape = spec.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
      feeds[spec.name] = zeros(spec.dtype, shape);
    }
    await this.session.run(feeds);
  }

  async run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    return this.session.run(feeds);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export const runtimeInfo = { name: 'onnxruntime-node', version: ort.env.versions.node ?? ort.env.versions.common };

type TypedArray = Float32Array | Float64Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

export function makeTensor(dtype: TensorDtype, data: ArrayLike<number> | TypedArray, shape: readonly number[]): ort.Tensor {
  switch (dtype) {
    case 'float32':
      return new ort.Tensor('float32', data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>), shape);
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(data as ArrayLike<number>), shape);
    case 'uint8':
      return new ort.Tensor('uint8', data instanceof Uint8Array ? data : Uint8Array.from(data as ArrayLike<number>), shape);
    case 'int8':
      return new ort.Tensor('int8', Int8Array.from(data as ArrayLike<number>), shape);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(data as ArrayLike<number>), shape);
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(Array.from(data as ArrayLike<number>, (v) => BigInt(Math.trunc(v)))), shape);
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(data as ArrayLike<number>), shape);
  }
}

function zeros(dtype: TensorDtype, shape: number[]): ort.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return makeTensor(dtype, new Array<number>(n).fill(0), shape);
}

export function tensorToNumbers(t: ort.Tensor): number[] {
  const data = t.data as ArrayLike<number | bigint>;
  return Array.from(data, (v) => Number(v));
}
