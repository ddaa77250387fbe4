/**
 * @module @edgeloop/models
 *
 * Public surface of the models package: the synthetic reference model builder, its tensor spec,
 * and the committed trained sample models that let every demo and test run offline.
 */
import { fileURLToPath } from 'node:url';
import type { ReferenceModelOptions } from './reference-model.js';
import type { SampleVersion } from './sample-recipes.js';

export { buildReferenceModel, REFERENCE_INPUT, REFERENCE_OUTPUT } from './reference-model.js';
export type { ReferenceModelOptions } from './reference-model.js';

export {
  SAMPLE_RECIPES,
  SAMPLE_CHECK_RECIPE,
  SAMPLE_SUMS_PATH,
  SAMPLE_CHECK_SUM_PATH,
  parseSums,
  type SampleRecipe,
  type SampleVersion,
} from './sample-recipes.js';

/**
 * Options of the synthetic pair (`buildReferenceModel`): bias + gain·mean(pixels) plus a few mm of
 * seeded MLP. Tests that need a known closed form (the truth of a grey image, a candidate a fixed
 * offset worse) build these; the committed samples are trained models and have no such form.
 */
export const SYNTHETIC_MODEL_OPTIONS: Readonly<Record<SampleVersion, Readonly<ReferenceModelOptions>>> = {
  v1: { seed: 1 },
  v2: { seed: 2, bias: 110, gain: 190 },
};

// Resolved from this module rather than the CWD so the paths work from any workspace or script.
function samplePath(version: SampleVersion): string {
  return fileURLToPath(new URL(`../sample/edgeloop-distance-${version}.onnx`, import.meta.url));
}

/** Preprocessing/postprocessing metadata for the samples, as `edgeloop models push --meta` takes it. */
export const SAMPLE_METADATA_PATH: string = fileURLToPath(
  new URL('../sample/edgeloop-distance.meta.json', import.meta.url),
);

/**
 * Per version, everything to register it with (`edgeloop models push --meta`): the shared
 * metadata plus the version's training metrics and its training summary, the baseline its drift
 * and live error are judged against. Written by scripts/train-samples.ts --install.
 */
export const SAMPLE_VERSION_METADATA: Readonly<Record<SampleVersion, string>> = {
  v1: fileURLToPath(new URL('../sample/edgeloop-distance-v1.meta.json', import.meta.url)),
  v2: fileURLToPath(new URL('../sample/edgeloop-distance-v2.meta.json', import.meta.url)),
};

/** Absolute paths of the committed sample models (trained; see `SAMPLE_RECIPES`). */
export const SAMPLE_MODELS: Readonly<Record<SampleVersion, string>> = {
  v1: samplePath('v1'),
  v2: samplePath('v2'),
};

export { inspectOnnx, NotAnOnnxModelError, type InspectedModel, type InspectedTensor } from './inspect.js';

export { BUILTIN_TRAINER, BUILTIN_TRAINER_CLI, PYTORCH_EXAMPLE_TRAINER } from './train/builtin.js';

export {
  EVALUATOR_CLI,
  EvaluatorError,
  runEvaluator,
  type ErrorStats,
  type EvaluationRequestInput,
  type ModelEvaluation,
  type RunEvaluatorOptions,
} from './evaluate/index.js';
