/**
 * @module @edgeloop/protocol/browser
 * What a browser (the fleet console) may import: topics, message and REST schemas, tensor and
 * manifest shapes, baselines. Nothing here reaches node:* or Buffer; signing, the binary codecs
 * and the file helpers stay behind the main entry. A test bundles this entry for the browser and
 * fails if anything node-only slips in.
 */
export * from './topics.js';
export * from './errors.js';
export * from './tensors.js';
export * from './manifest.js';
export * from './envelope.js';
export * from './baseline.js';
export * from './image-features.js';
export * from './dataset.js';
export * from './dataset-manifest.js';
export * from './trainer-contract.js';
export * from './columns.js';
export * from './messages.js';
export * from './rest/index.js';
