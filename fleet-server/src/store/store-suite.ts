/**
 * @module store/store-suite
 * The FleetStore contract as tests: every implementation (SQLite here, PostgreSQL beside it)
 * runs `runFleetStoreSuite` against a fresh store per test and must pass all of it. The tests
 * themselves are grouped by area in `store-suite/`.
 */
import { test } from 'node:test';
import type { FleetStore } from './fleet-store.js';
import { brokerUsersContract } from './store-suite/broker-users-contract.js';
import { consoleSessionsContract } from './store-suite/console-sessions-contract.js';
import { datasetsContract } from './store-suite/datasets-contract.js';
import { deviceListContract } from './store-suite/device-list-contract.js';
import { devicesContract } from './store-suite/devices-contract.js';
import type { WithStore } from './store-suite/fixtures.js';
import { ingestContract } from './store-suite/ingest-contract.js';
import { loopContract } from './store-suite/loop-contract.js';
import { changesContract } from './store-suite/changes-contract.js';
import { monitoringContract } from './store-suite/monitoring-contract.js';
import { registryContract } from './store-suite/registry-contract.js';
import { rollupIngestContract } from './store-suite/rollup-ingest-contract.js';
import { rollupsContract } from './store-suite/rollups-contract.js';
import { telemetryContract } from './store-suite/telemetry-contract.js';
import { trainingContract } from './store-suite/training-contract.js';

export function runFleetStoreSuite(name: string, open: () => Promise<FleetStore>): void {
  const withStore: WithStore = (title, fn) =>
    test(`${name}: ${title}`, async () => {
      const store = await open();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });
  telemetryContract(withStore);
  ingestContract(withStore);
  devicesContract(withStore);
  deviceListContract(withStore);
  registryContract(withStore);
  brokerUsersContract(withStore);
  consoleSessionsContract(withStore);
  trainingContract(withStore);
  datasetsContract(withStore);
  rollupsContract(withStore);
  rollupIngestContract(withStore);
  monitoringContract(withStore);
  loopContract(withStore);
  changesContract(withStore);
}
