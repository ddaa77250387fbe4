/**
 * @module train/backend
 * Picks tfjs's backend once per process: WASM (XNNPACK, a few times faster than pure JS on
 * dense layers) with its .wasm files loaded from the installed package, or the pure-JS CPU
 * backend when WASM cannot start. Both run float32 arithmetic; the trainer records which one ran.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export type BackendName = 'wasm' | 'cpu';

let chosen: Promise<BackendName> | undefined;

/** The backend in use after trying `preferred` first; the same answer for the rest of the process. */
export function initBackend(preferred: BackendName = 'wasm'): Promise<BackendName> {
  chosen ??= choose(preferred);
  return chosen;
}

async function choose(preferred: BackendName): Promise<BackendName> {
  if (preferred === 'wasm') {
    try {
      const require = createRequire(import.meta.url);
      const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
      // Under Node the emscripten loader reads the file path it is given; a trailing slash is required.
      setWasmPaths(`${path.resolve(dist)}${path.sep}`);
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return 'wasm';
      }
    } catch {
      // fall through to the CPU backend
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return 'cpu';
}
