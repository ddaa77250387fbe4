/**
 * @module runtime/select-backend
 * Picks the ONNX Runtime build for this device once, at start. "auto" prefers the native binding
 * and falls back to WASM when this CPU has no native binary or the binding will not load; the
 * reason is logged, because a device that silently runs 3-5x slower is hard to diagnose later.
 * Both builds are imported lazily so a 32-bit ARM device never touches onnxruntime-node.
 *
 * A device install carries only the package its CPU needs (onnxruntime-node on x64/arm64,
 * onnxruntime-web on 32-bit ARM), so a backend can be absent on purpose: that case fails with
 * what to install, not with a module-resolution stack trace.
 */
import type { BackendName, InferenceBackend } from './backend.js';

export type BackendChoice = 'auto' | 'native' | 'wasm';

/** Architectures onnxruntime-node ships Linux binaries for. */
export const NATIVE_ARCHES: readonly string[] = ['x64', 'arm64'];

export interface BackendSelectionLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** Seams for tests: pretend to be another CPU, make the native binding fail, or a package be absent. */
export interface BackendSelectionEnv {
  arch?: string;
  loadNative?: () => Promise<InferenceBackend>;
  installed?: (pkg: BackendName) => boolean;
}

/** Thrown when the package a backend needs is not installed; the message says how to get it. */
export class BackendNotInstalledError extends Error {
  constructor(
    readonly pkg: BackendName,
    why: string,
  ) {
    super(`${why}, and ${pkg} is not installed. ${howToInstall(pkg)}`);
    this.name = 'BackendNotInstalledError';
  }
}

/** Where each package comes from on a device (install.sh) and in a checkout (npm ci). */
function howToInstall(pkg: BackendName): string {
  const device =
    pkg === 'onnxruntime-web'
      ? 'On a device re-run firmware-scripts/install.sh with --with-wasm (it installs onnxruntime-web by itself only on 32-bit ARM)'
      : 'On a device re-run firmware-scripts/install.sh (it installs onnxruntime-node on x64 and arm64; 32-bit ARM has no native build)';
  return `${device}; in a checkout run npm ci at the repository root (it installs both).`;
}

/** Resolves the package the way the dynamic import will (ESM conditions, from this module). */
function isInstalled(pkg: BackendName): boolean {
  try {
    import.meta.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

const importNative = async () => (await import('./native-backend.js')).createNativeBackend();
const importWasm = async (log?: BackendSelectionLog) => (await import('./wasm-backend.js')).createWasmBackend(log);

export async function selectBackend(
  choice: BackendChoice,
  log?: BackendSelectionLog,
  env: BackendSelectionEnv = {},
): Promise<InferenceBackend> {
  const arch = env.arch ?? process.arch;
  const loadNative = env.loadNative ?? importNative;
  const installed = env.installed ?? isInstalled;
  const wasm = (why: string) => {
    if (!installed('onnxruntime-web')) throw new BackendNotInstalledError('onnxruntime-web', why);
    return importWasm(log);
  };

  if (choice === 'wasm') return wasm('runtime.backend is "wasm"');
  if (choice === 'native') {
    if (!installed('onnxruntime-node')) {
      throw new BackendNotInstalledError('onnxruntime-node', 'runtime.backend is "native"');
    }
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
    const backend = wasm(`this CPU (${arch}) has no native ONNX Runtime, so the agent needs the WASM backend`);
    log?.info({ arch, backend: 'onnxruntime-web' }, `no native ONNX Runtime for ${arch}; using the WASM backend`);
    return backend;
  }
  if (!installed('onnxruntime-node')) {
    if (!installed('onnxruntime-web'))
      throw new BackendNotInstalledError(
        'onnxruntime-node',
        `runtime.backend "auto" on ${arch} found neither ONNX Runtime package`,
      );
    log?.warn(
      { arch, backend: 'onnxruntime-web' },
      `onnxruntime-node is not installed although ${arch} has a native build; using the WASM backend`,
    );
    return importWasm(log);
  }
  try {
    return await loadNative();
  } catch (err) {
    const reason = firstLine(err);
    const backend = wasm(
      `onnxruntime-node did not load on ${process.platform}/${arch} (${reason}), so the agent needs the WASM fallback`,
    );
    // warn, not info: on these CPUs the binding should load, so this is a broken install.
    log?.warn({ arch, backend: 'onnxruntime-web', reason }, 'native ONNX Runtime did not load; using the WASM backend');
    return backend;
  }
}

/** Module-not-found errors carry the whole require stack; the first line says what is missing. */
function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}
