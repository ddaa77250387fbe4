/**
 * @module @edgeloop/fleet-server/testing
 * The fleet server's internals that tests and benchmarks outside this workspace use directly
 * (the telemetry store, the lab CA, the broker's guards and the Mosquitto sync, the API's
 * operation table), so that they import a declared entry point instead of reaching into src/ by
 * relative path. Not used by the server itself.
 */
export { openFleetDb } from './store/fleet-db.js';
export { TelemetryStore } from './store/telemetry-store.js';
export { ensureLabCertificates, labSubjectAltNames } from './tls/lab-ca.js';
export { MosquittoSync } from './broker/mosquitto-sync.js';
export { encodeRemainingLength } from './broker/packet-size-guard.js';
