/**
 * @module @edgeloop/protocol/node
 * What only runs in Node: signing and verifying (node:crypto, Buffer), keysets, desired states
 * and artifacts (hashes), the binary codecs (Buffer, zlib), chunked transfer, the private-CA
 * fetch and pinning (node:https), and the JSON answer to malformed HTTP requests. Browser code
 * imports `@edgeloop/protocol/browser` or `@edgeloop/protocol/client` instead; `@edgeloop/protocol`
 * is both together.
 */
export * from './signing.js';
export * from './keyset.js';
export * from './artifact.js';
export * from './dataset-hash.js';
export * from './desired-state.js';
export * from './codec.js';
export * from './telemetry-codec.js';
export * from './sample-codec.js';
export * from './chunk-transfer.js';
export * from './http-client-error.js';
export * from './ca-pin.js';
export * from './tls-fetch.js';
export * from './child-process.js';
