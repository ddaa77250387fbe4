/**
 * @module @edgeloop/protocol/rest
 * The fleet server's REST contract: every request and answer as a zod schema and the route
 * table tying them to methods and paths. Browser-safe. The server validates with it, the OpenAPI
 * document and the typed client (`@edgeloop/protocol/client`) are derived from it.
 */
export * from './rest/index.js';
