/**
 * @module @edgeloop/protocol
 * The one source of truth shared by agent, fleet server and console: topics, message schemas,
 * encodings and the signed manifest.
 */
export * from './topics.js';
export * from './errors.js';
export * from './tensors.js';
export * from './manifest.js';
export * from './signing.js';
export * from './keyset.js';
export * from './baseline.js';
export * from './monitoring/rollup.js';
export * from './monitoring/windows.js';
export * from './monitoring/messages.js';
export * from './monitoring/rules.js';
export * from './monitoring/metrics.js';
export * from './monitoring/special-functions.js';
export * from './monitoring/drift-defaults.js';
export * from './monitoring/metric-catalogue.js';
export * from './monitoring/version-spec.js';
export * from './image-features.js';
export * from './dataset.js';
export * from './dataset-manifest.js';
export * from './dataset-hash.js';
export * from './trainer-contract.js';
export * from './artifact.js';
export * from './messages.js';
export * from './desired-state.js';
export * from './codec.js';
// The REST contract's schemas and route table load with '@edgeloop/protocol/rest'; here only
// their types and the constant sets, so a device agent does not build them in its memory.
export * from './rest/constants.js';
export type * from './rest/index.js';
export * from './sqlite-migrations.js';
export * from './telemetry-codec.js';
export * from './sample-codec.js';
export * from './chunk-transfer.js';
export * from './http-client-error.js';
export * from './ca-pin.js';
export * from './tls-fetch.js';
