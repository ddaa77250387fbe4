/**
 * @module @edgeloop/protocol/client
 * The typed REST client of the fleet server (and the route table it is derived from), for the
 * `edgeloop` CLI and the browser console. Nothing here reaches node:* or Buffer: a test bundles
 * this entry for the browser. Node-only transport (a pinned private CA) is passed in as `fetch`.
 */
export * from './client/rest-client.js';
export * from './client/client-errors.js';
export type * from './client/route-types.js';
export * from './rest/index.js';
