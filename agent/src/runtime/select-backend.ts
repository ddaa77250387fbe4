/**
 * @module runtime/select-backend
 * Picks the ONNX Runtime build for this device once, at start. "auto" prefers the native binding
 * and falls back to WASM when this CPU has no native binary or the binding will not load; the
 * reason is logged, because a device that silently runs 3-5x slower is hard to diagnose later.
 * Both builds are imported lazily so a 32-bit ARM device never touches onnxruntime-node.
 */
import type { InferenceBackend } from './backend.js';

export type BackendChoice = 'auto' | 'native' | 'wasm';

/** Architectures onnxruntime-node ships Linux binaries for. */
export const NATIVE_ARCHES: readonly string[] = ['x64', 'arm64'];

export interface BackendSelectionLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** Seams for tests: pretend to be another CPU, or make the native binding fail to load. */
export interface BackendSelectionEnv {
  arch?: string;
  loadNative?: () => Promise<InferenceBackend>;
}

const importNative = async () => (await import('./native-backend.js')).createNativeBackend();
const importWasm = async (log?: BackendSelectionLog) => (await import('./wasm-backend.js')).createWasmBackend(log);

export async function selectBackend(choice: BackendChoice, log?: BackendSelectionLog, env: BackendSelectionEnv = {}): Promise<InferenceBackend> {
  const arch = env.arch ?? process.arch;
  const loadNative = env.loadNative ?? importNative;

  if (choice === 'wasm') return importWasm(log);
  if (choice === 'native') {
    try {
      return await loadNative();
    } catch (err) {
      throw new Error(
        `runtime.backend is "native" but onnxruntime-node does not load on ${process.platform}/${arch}: ${firstLine(err)}; ` +
          'set runtime.backend to "wasm" (or "auto") in the agent config, or EDGELOOP_RUNTIME_BACKEND=wasm',
        { cause: err },
      );
    }
  }

  if (!NATIVE_ARCHES.includes(arch)) {
    log?.info({ arch, backend: 'onnxruntime-web' }, `no native ONNX Runtime for ${arch}; using the WASM backend`);
    return importWasm(log);
  }
  try {
    return await loadNative();
  } catch (err) {
    // warn, not info: on these CPUs the binding should load, so this is a broken install.
    log?.warn({ arch, backend: 'onnxruntime-web', reason: firstLine(err) }, 'native ONNX Runtime did not load; using the WASM backend');
    return importWasm(log);
  }
}

/** Module-not-found errors carry the whole require stack; the first line says what is missing. */
function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}
