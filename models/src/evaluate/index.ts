/**
 * @module evaluate
 * Scoring ONNX model files on labelled images as a device would feed them: `runEvaluator` runs
 * the evaluator in a child process (for servers), `evaluateModels` in the calling process (for
 * scripts and tests that may block).
 */
export {
  DEFAULT_EVALUATION_TIMEOUT_MS,
  EVALUATOR_CLI,
  EVALUATOR_COMMAND,
  EvaluatorError,
  runEvaluator,
  type RunEvaluatorOptions,
} from './run-evaluator.js';
export { EvaluationError, evaluateModels, type EvaluateOptions } from './evaluate.js';
export { ImageDecodeError, imageInto, itemLength } from './image-tensor.js';
export {
  EVALUATOR_EXIT,
  evaluationItemSchema,
  evaluationModelSchema,
  evaluationRequestSchema,
  type ErrorStats,
  type EvaluationItem,
  type EvaluationModel,
  type EvaluationRequest,
  type EvaluationRequestInput,
  type EvaluatorLine,
  type ModelEvaluation,
} from './request.js';
