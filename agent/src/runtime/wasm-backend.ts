/**
 * @module runtime/wasm-backend
 * ONNX Runtime's WebAssembly build (onnxruntime-web) running inside Node: the fallback for
 * devices onnxruntime-node has no binary for (32-bit ARM). Under Node the package's "node" export
 * condition selects its Node bundle, which reads the .wasm with fs; we still pin the file paths
 * to the installed package so the runtime is never looked for anywhere else (no network, and a
 * bundled agent keeps working).
 *
 * The WASM runtime is initialised once per process, at the first session, and its thread count
 * is fixed from then on. Threads do work under Node (SharedArrayBuffer needs no cross-origin
 * isolation there), but we default to one: inference then runs on the calling thread with no
 * worker pool, which is the predictable choice on a small board; `runtime.intraOpThreads` > 0
 * opts into a pool.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type * as OrtWeb from 'onnxruntime-web';
import { wrapOrtSession, type InferenceBackend } from './backend.js';

export interface WasmBackendLog {
  warn(details: object, message: string): void;
}

/** Thread count the process-wide WASM runtime was initialised with; undefined until then. */
let initialisedThreads: number | undefined;

/**
 * Loads onnxruntime-web here rather than at module level: esbuild hoists a static import of an
 * external package to the top of the device bundle, so every device running the native backend
 * would load this one too.
 */
export async function createWasmBackend(log?: WasmBackendLog): Promise<InferenceBackend> {
  const ort = await import('onnxruntime-web');
  return {
    name: 'onnxruntime-web',
    version: ort.env.versions.web ?? ort.env.versions.common,
    async createSession(model, opts) {
      const threads = opts.intraOpThreads > 0 ? opts.intraOpThreads : 1;
      if (initialisedThreads === undefined) {
        configureRuntime(ort, threads);
        initialisedThreads = threads;
      } else if (threads !== initialisedThreads) {
        log?.warn(
          { requested: threads, running: initialisedThreads },
          'WASM runtime already runs with another thread count; it cannot change until the agent restarts',
        );
      }
      const session = await ort.InferenceSession.create(model, {
        // "wasm" by name: with onnxruntime-node loaded too (tests), "cpu" would mean the native one.
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      });
      return wrapOrtSession(session, (t) => new ort.Tensor(t.dtype, t.data, t.dims));
    },
  };
}

function configureRuntime(ort: typeof OrtWeb, threads: number): void {
  const require = createRequire(import.meta.url);
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = {
    wasm: pathToFileURL(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm')),
    mjs: pathToFileURL(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.mjs')),
  };
}
