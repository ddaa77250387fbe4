/**
 * @module train/describe
 * The built-in reference trainer's parameters (protocol's trainerDescriptionSchema): what
 * `--describe` prints and what a sweep is checked against before anything runs.
 */
import type { TrainerDescription } from '@edgeloop/protocol';

export const TRAINER_NAME = 'edgeloop-reference';
export const TRAINER_VERSION = '1';

export const REFERENCE_TRAINER_DESCRIPTION: TrainerDescription = {
  name: TRAINER_NAME,
  version: TRAINER_VERSION,
  description:
    'Camera frame → distance in mm: fixed average pooling and standardisation in the graph, then trainable dense layers (tfjs, exported to ONNX).',
  params: {
    epochs: { type: 'integer', default: 60, min: 1, max: 1000, description: 'passes over the training split' },
    learningRate: { type: 'number', default: 0.002, min: 0.00001, max: 1, description: 'Adam step size' },
    hidden: { type: 'integer', default: 64, min: 4, max: 512, description: 'units of the first hidden layer' },
    hidden2: {
      type: 'integer',
      default: 32,
      min: 0,
      max: 512,
      description: 'units of a second hidden layer (0: none)',
    },
    batchSize: { type: 'integer', default: 64, min: 1, max: 4096, description: 'samples per gradient step' },
    pool: {
      type: 'integer',
      default: 8,
      min: 2,
      max: 16,
      description: 'side of the fixed average-pooling window; must divide 48 and 64 (2, 4, 8 or 16)',
    },
    l2: { type: 'number', default: 0.0001, min: 0, max: 1, description: 'weight decay on the dense kernels' },
    loss: {
      type: 'string',
      default: 'huber',
      values: ['huber', 'mse'],
      description: 'huber (delta: one label std) shrugs off sensor outliers; mse chases them',
    },
  },
};

/** The parameters as the trainer uses them, after resolveParams filled the defaults. */
export interface ReferenceParams {
  readonly seed: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly hidden: number;
  readonly hidden2: number;
  readonly batchSize: number;
  readonly pool: number;
  readonly l2: number;
  readonly loss: 'huber' | 'mse';
}
