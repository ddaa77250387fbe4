/**
 * @module runtime/native-backend
 * ONNX Runtime's native Node binding (onnxruntime-node): the fast path, available only where the
 * package ships a binary (linux x64 and arm64 among ours). Loading the package loads the binding
 * and throws where there is none, so it is imported here, when select-backend asks for this
 * backend, and never at module level: esbuild hoists a static import of an external package to
 * the top of the device bundle, where it would load on every device (and fail on armv7).
 */
import { wrapOrtSession, type InferenceBackend } from './backend.js';

export async function createNativeBackend(): Promise<InferenceBackend> {
  const ort = await import('onnxruntime-node');
  return {
    name: 'onnxruntime-node',
    version: ort.env.versions.node ?? ort.env.versions.common,
    async createSession(model, opts) {
      const session = await ort.InferenceSession.create(model, {
        // Named explicitly: onnxruntime-web registers its own "cpu" in the same shared registry
        // when both are loaded (tests, benchmarks), and we must not silently run on the other one.
        executionProviders: ['cpu'],
        intraOpNumThreads: opts.intraOpThreads,
        graphOptimizationLevel: 'all',
      });
      return wrapOrtSession(session, (t) => new ort.Tensor(t.dtype, t.data, t.dims));
    },
  };
}
