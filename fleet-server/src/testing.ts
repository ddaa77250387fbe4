/**
 * @module @edgeloop/fleet-server/testing
 * The fleet server's internals that tests and benchmarks outside this workspace use directly
 * (opening a fleet store, a private PostgreSQL server, the lab CA, the broker's guards and the Mosquitto sync), so that they import a declared entry point instead of reaching into src/ by
 * relative path. Not used by the server itself.
 */
export { openFleetStore } from './store/open-fleet-store.js';
export type { FleetStore } from './store/fleet-store.js';
// The test PostgreSQL server is test harness, not a way around the FleetStore: the server never imports it.
// eslint-disable-next-line no-restricted-imports
export {
  findPostgresBin,
  startTestPostgres,
  testPostgresSkip,
  type TestPostgres,
} from './store/postgres/test-postgres.js';
export { ensureLabCertificates, labSubjectAltNames } from './tls/lab-ca.js';
export { MosquittoSync } from './broker/mosquitto-sync.js';
export { hashMosquittoPassword } from './broker/mosquitto-passwd.js';
export { IdentityService } from './identity/identity-service.js';
export { FleetBus, busSubscriptions } from './ingest/fleet-bus.js';
export { encodeRemainingLength } from './broker/packet-size-guard.js';
export { FolderDatasets, writeTestDataset, FIXTURE_TRAINER } from './training/training-fixtures.js';
export { registerSyntheticFleet, syntheticDevice } from './devices/synthetic-fleet.js';
