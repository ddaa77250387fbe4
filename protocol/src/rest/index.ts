/**
 * @module rest
 * The fleet server's REST contract: request and answer schemas (zod; the TypeScript types are
 * inferred from them) and the route table that ties them to methods and paths. Browser-safe.
 */
export * from './constants.js';
export * from './shared.js';
export * from './devices.js';
export * from './models.js';
export * from './telemetry.js';
export * from './samples.js';
export * from './datasets.js';
export * from './identity.js';
export * from './roles.js';
export * from './sessions.js';
export * from './keys.js';
export * from './rollouts.js';
export * from './audit.js';
export * from './training.js';
export * from './monitoring.js';
export * from './monitoring-queries.js';
export * from './loop.js';
export * from './health.js';
export * from './route-spec.js';
export * from './routes.js';
