/**
 * @module @edgeloop/models/trainer
 * The built-in reference trainer in-process (tests, benchmarks, the sample-model build): the
 * same code its command line runs. Loads tfjs; the server runs the command (BUILTIN_TRAINER)
 * instead.
 */
export { trainReference, type TrainOptions, type TrainResult } from './train.js';
export { readDataset, DatasetError, type LoadedDataset, type LoadedItem } from './dataset-reader.js';
export { REFERENCE_TRAINER_DESCRIPTION, TRAINER_NAME, type ReferenceParams } from './describe.js';
export { REFERENCE_META, REFERENCE_PREPROCESSING, decodeImage } from './preprocess.js';
export { BUILTIN_TRAINER, BUILTIN_TRAINER_CLI, PYTORCH_EXAMPLE_TRAINER } from './builtin.js';
export { writeSyntheticDataset } from './test-dataset.js';
export { initBackend, type BackendName } from './backend.js';
