/**
 * @module console/client/try-model/run-model
 * Runs a registered model version in the page with onnxruntime-web's WebAssembly build, on one
 * thread: the console is not cross-origin isolated, so there is no SharedArrayBuffer for a
 * thread pool, and one thread is what the agent runs by default anyway. The .wasm file is
 * fetched from a URL prefix the server serves it under (`wasmPaths`); compiling it needs
 * `'wasm-unsafe-eval'` in the page's script-src, and nothing more than 'self' otherwise.
 *
 * The model artifact comes from the registry (GET /api/v1/artifacts/{sha256}); its digest is
 * checked against the version's before it is run, wherever the page has WebCrypto.
 */
import * as ort from 'onnxruntime-web/wasm';
import type { ModelVersionSummary, TensorDtype, TensorSpec } from '@edgeloop/protocol/browser';
import { interpret, type Interpretation, type OutputValues } from './postprocess.js';
import { preprocess, type PreprocessedImage, type Resampler, type RgbaImage } from './preprocess.js';

/** What the page needs to know of a version (a subset of GET /api/v1/models/{name}/versions/{v}). */
export type TryModelVersion = Pick<
  ModelVersionSummary,
  'name' | 'version' | 'sha256' | 'inputs' | 'outputs' | 'preprocessing' | 'postprocessing'
>;

export interface RuntimeOptions {
  /** URL prefix the onnxruntime-web .wasm file is served under, ending in "/" (e.g. "/assets/ort/"). */
  wasmPaths: string;
}

export interface TryModelResult extends Interpretation {
  /** Every declared output as plain numbers (BigInt outputs converted), as the agent records them. */
  outputs: Record<string, OutputValues>;
  /** Monitoring features of the model-size pixels, as the agent records them. */
  features: Record<string, number>;
  /** Whether the image had to be resampled (then the result is close to the agent's, not equal). */
  resampled: boolean;
  preprocessMs: number;
  inferenceMs: number;
}

/** Refused before anything runs: the message says why and what to do instead. */
export class TryModelError extends Error {}

/** The one file the server must serve under `wasmPaths`, from node_modules/onnxruntime-web/dist/. */
export const ORT_WASM_FILE = 'ort-wasm-simd-threaded.wasm';

let configuredPaths: string | undefined;

/** onnxruntime-web's settings are global and fixed once the runtime has started. */
function configureRuntime(options: RuntimeOptions): void {
  if (!options.wasmPaths.endsWith('/'))
    throw new TryModelError(`wasmPaths must end in "/" (got "${options.wasmPaths}")`);
  if (configuredPaths === undefined) {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    // Only the .wasm is fetched: the bundled runtime carries its own loader (a string prefix
    // would make it import ort-wasm-simd-threaded.mjs from there as well).
    ort.env.wasm.wasmPaths = { wasm: `${options.wasmPaths}${ORT_WASM_FILE}` };
    configuredPaths = options.wasmPaths;
  } else if (configuredPaths !== options.wasmPaths) {
    throw new TryModelError(
      `the runtime already loads from ${configuredPaths}; it cannot switch to ${options.wasmPaths} without a reload`,
    );
  }
}

/** The one image input, or the reason this version cannot be tried in a browser. */
function imageInput(version: TryModelVersion): TensorSpec {
  const pre = version.preprocessing;
  const name = `${version.name} v${version.version}`;
  if (pre.kind !== 'image')
    throw new TryModelError(
      `${name} takes tensors, not an image (its preprocessing is "none"); send it tensors with POST /v1/predict on a device`,
    );
  const spec = version.inputs.find((i) => i.name === pre.input);
  if (!spec)
    throw new TryModelError(`${name}: its preprocessing feeds input "${pre.input}", which the model does not have`);
  const others = version.inputs.filter((i) => i.name !== pre.input).map((i) => i.name);
  if (others.length)
    throw new TryModelError(
      `${name} also takes ${others.join(', ')} besides the image; the browser can only feed the image, so try it on a device`,
    );
  return spec;
}

/** Float values as the input's dtype, converted as the agent's makeTensor converts them. */
export function toInputTensor(dtype: TensorDtype, data: Float32Array, dims: number[]): ort.Tensor {
  switch (dtype) {
    case 'float32':
      return new ort.Tensor('float32', data, dims);
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(data), dims);
    case 'uint8':
      return new ort.Tensor('uint8', Uint8Array.from(data), dims);
    case 'int8':
      return new ort.Tensor('int8', Int8Array.from(data), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(data), dims);
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(Array.from(data, (v) => BigInt(Math.trunc(v)))), dims);
    case 'bool':
      return new ort.Tensor(
        'bool',
        Uint8Array.from(data, (v) => (v ? 1 : 0)),
        dims,
      );
  }
}

function toValues(t: ort.Tensor): OutputValues {
  return { shape: [...t.dims], data: Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v)) };
}

async function sha256Hex(bytes: Uint8Array): Promise<string | undefined> {
  // WebCrypto exists only in secure contexts (https, or http on localhost).
  if (typeof crypto === 'undefined' || !crypto.subtle) return undefined;
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Downloads a version's ONNX file (same-origin, so the session cookie goes along) and checks it
 * is the registered artifact.
 */
export async function fetchArtifact(url: string, sha256: string, fetcher: typeof fetch = fetch): Promise<Uint8Array> {
  const res = await fetcher(url, { credentials: 'same-origin' });
  if (!res.ok) {
    const reason = await res.text().catch(() => '');
    throw new TryModelError(`downloading the model from ${url} answered ${res.status}${reason ? `: ${reason}` : ''}`);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  const actual = await sha256Hex(bytes);
  if (actual !== undefined && actual !== sha256)
    throw new TryModelError(
      `the downloaded model has sha256 ${actual}, the version says ${sha256}; reload and try again`,
    );
  return bytes;
}

/** One loaded version, ready to run on images. */
export class BrowserModel {
  private constructor(
    readonly version: TryModelVersion,
    private readonly session: ort.InferenceSession,
    private readonly input: TensorSpec,
  ) {}

  /** Starts a session on the model's bytes; refuses versions a browser cannot feed. */
  static async load(version: TryModelVersion, model: Uint8Array, runtime: RuntimeOptions): Promise<BrowserModel> {
    const input = imageInput(version);
    configureRuntime(runtime);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new TryModelError(
        `onnxruntime-web could not load ${version.name} v${version.version}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return new BrowserModel(version, session, input);
  }

  /** The version's preprocessing on decoded pixels, then the model, then its postprocessing. */
  async run(image: RgbaImage, resample?: Resampler): Promise<TryModelResult> {
    const pre = this.version.preprocessing;
    if (pre.kind !== 'image') throw new TryModelError('this version takes no image'); // checked at load
    const started = performance.now();
    const tensor: PreprocessedImage = await preprocess(image, pre, resample ? { resample } : {});
    const fed = performance.now();
    const results = await this.session.run({
      [this.input.name]: toInputTensor(this.input.dtype, tensor.data, tensor.dims),
    });
    const inferenceMs = performance.now() - fed;
    const outputs: Record<string, OutputValues> = {};
    for (const spec of this.version.outputs) {
      const t = results[spec.name];
      if (t) outputs[spec.name] = toValues(t);
    }
    return {
      ...interpret(this.version.postprocessing, outputs),
      outputs,
      features: tensor.features,
      resampled: tensor.resampled,
      preprocessMs: fed - started,
      inferenceMs,
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
