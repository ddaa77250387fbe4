/**
 * @module runtime/backend
 * The seam between the agent and an ONNX Runtime build. The agent speaks only `TensorData` and
 * `BackendSession`, so the native binding (x64/arm64) and the WASM build (everything else, e.g.
 * 32-bit Raspberry Pi OS) are interchangeable and neither package is imported outside its own
 * backend module: an armv7 device must never even try to load the native binding.
 */
import { TENSOR_DTYPES, type TensorDtype } from '@edgeloop/protocol';

/** A CPU tensor independent of any runtime package. `bool` travels as a Uint8Array of 0/1. */
export interface TensorData {
  dtype: TensorDtype;
  data: Float32Array | Float64Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;
  dims: number[];
}

export type BackendName = 'onnxruntime-node' | 'onnxruntime-web';

export interface SessionOptions {
  /** 0 = the backend's default (native: one thread per core; WASM: one thread). */
  intraOpThreads: number;
}

export interface InferenceBackend {
  readonly name: BackendName;
  readonly version: string;
  createSession(model: Uint8Array, opts: SessionOptions): Promise<BackendSession>;
}

export interface BackendSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>>;
  release(): Promise<void>;
}

/** The typed array each dtype must use; both ONNX Runtime builds insist on exactly these. */
const ARRAY_TYPE: Record<TensorDtype, new (length: number) => TensorData['data']> = {
  float32: Float32Array,
  float64: Float64Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
};

/** Throws a readable error instead of letting a runtime fail deep inside with a generic one. */
function checkTensorData(name: string, t: TensorData): void {
  const expected = ARRAY_TYPE[t.dtype];
  if (!expected)
    throw new Error(
      `input "${name}": dtype ${String(t.dtype)} is not supported (use one of ${TENSOR_DTYPES.join(', ')})`,
    );
  if (!(t.data instanceof expected)) {
    throw new Error(`input "${name}": dtype ${t.dtype} needs a ${expected.name}, got ${t.data.constructor.name}`);
  }
  const count = t.dims.reduce((n, d) => n * d, 1);
  if (count !== t.data.length)
    throw new Error(`input "${name}": dims [${t.dims.join(', ')}] need ${count} values, got ${t.data.length}`);
}

/** The subset of an ort.Tensor (from either package) that we read; structural so neither is imported here. */
interface OrtTensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/**
 * Copies nothing: an output tensor's buffer already belongs to JavaScript in both builds (the
 * WASM build copies results out of its heap before returning them).
 */
function fromOrtTensor(name: string, t: OrtTensorLike): TensorData {
  const dtype = t.type as TensorDtype;
  const expected = ARRAY_TYPE[dtype];
  if (!expected || !(t.data instanceof expected)) {
    throw new Error(
      `output "${name}" has ONNX type ${t.type}, which EdgeLoop does not support (supported: ${TENSOR_DTYPES.join(', ')})`,
    );
  }
  return { dtype, data: t.data, dims: [...t.dims] };
}

/** What both packages' InferenceSession look like to us (they share onnxruntime-common's types). */
export interface OrtSessionLike<OrtTensor> {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** Adapts a package's session to BackendSession; `toOrt` builds that package's own Tensor. */
export function wrapOrtSession<OrtTensor>(
  session: OrtSessionLike<OrtTensor>,
  toOrt: (t: TensorData) => OrtTensor,
): BackendSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const ortFeeds: Record<string, OrtTensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        checkTensorData(name, t);
        ortFeeds[name] = toOrt(t);
      }
      const results = await session.run(ortFeeds);
      return Object.fromEntries(Object.entries(results).map(([name, t]) => [name, fromOrtTensor(name, t)]));
    },
    release: () => session.release(),
  };
}
