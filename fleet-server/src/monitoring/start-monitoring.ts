/**
 * @module monitoring/start-monitoring
 * The server's monitoring as its config describes it: the rule engine on the store's rollups and
 * the registry's versions, and the rollup housekeeping (compaction, downsampling, retention).
 * Both are leader duties the caller starts; the engine's clock is the data clock it is given.
 */
import type { Logger } from 'pino';
import type { FleetConfig } from '../config.js';
import {
  DEFAULT_ROLLUP_RETENTION_DAYS,
  DEFAULT_TELEMETRY_RETENTION_DAYS,
  RollupHousekeeping,
} from '../rollups/rollup-housekeeping.js';
import type { FleetStore } from '../store/fleet-store.js';
import { Monitoring } from './monitoring-service.js';
import { catalogueMetrics, registryVersions, rolloutArms } from './store-sources.js';

export async function startMonitoring(o: {
  config: FleetConfig;
  store: FleetStore;
  log: Logger;
  /** Data time of the rule engine (default Date.now; the simulator passes its own). */
  now?: () => number;
}): Promise<Monitoring> {
  const { config, store } = o;
  const monitoring = new Monitoring({
    repo: store.monitoring,
    log: o.log,
    engine: {
      rollups: store.rollups,
      metrics: catalogueMetrics,
      versions: registryVersions(store),
      arms: rolloutArms(store),
      evaluateEveryMs: config.monitoring.evaluateEveryMs,
    },
    ...(o.now ? { now: o.now } : {}),
    incidentQuietMs: config.monitoring.incidentQuietMs,
    defaultRules: config.monitoring.defaultRules,
    configRules: config.monitoring.rules,
    globalActions: config.monitoring.actions,
    ...(config.monitoring.webhookSecret !== undefined ? { webhookSecret: config.monitoring.webhookSecret } : {}),
  });
  await monitoring.loadConfigRules();
  return monitoring;
}

/** Rollup housekeeping; on SQLite it also deletes old raw telemetry (PostgreSQL drops partitions itself). */
export function rollupHousekeeping(
  config: FleetConfig,
  store: FleetStore,
  onSqlite: boolean,
  log: Logger,
): RollupHousekeeping {
  return new RollupHousekeeping(
    store,
    {
      rollupRetentionDays: config.rollupRetentionDays ?? DEFAULT_ROLLUP_RETENTION_DAYS,
      ...(onSqlite
        ? { telemetryRetentionDays: config.telemetryRetentionDays ?? DEFAULT_TELEMETRY_RETENTION_DAYS }
        : {}),
    },
    log,
  );
}
