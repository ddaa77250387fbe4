/**
 * @module server
 * Starts the fleet server: SQLite store, signing key, MQTT broker (embedded unless an external
 * one is configured), the server's bus client with its ingest handlers, and the HTTP API.
 */
import type { Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import pino, { type Logger } from 'pino';
import { createFleetApi } from './api/app.js';
import type { ArtifactStats } from './api/model-routes.js';
import { parseFleetConfig, type FleetConfigInput } from './config.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker.js';
import { Deployments } from './deploy/deployments.js';
import { FleetBus } from './ingest/fleet-bus.js';
import { presenceIngest } from './ingest/presence-ingest.js';
import { referenceIngest } from './ingest/reference-ingest.js';
import { sampleIngest } from './ingest/sample-ingest.js';
import { SampleStore } from './store/sample-store.js';
import { telemetryIngest, type TelemetryIngestStats } from './ingest/telemetry-ingest.js';
import { updateIngest } from './ingest/update-ingest.js';
import { loadOrCreateSigningKey } from './keys/signing-key.js';
import { ArtifactStore } from './registry/artifact-store.js';
import { ModelRegistry } from './registry/model-registry.js';
import { DeviceStore } from './store/device-store.js';
import { openFleetDb } from './store/fleet-db.js';
import { ModelStore } from './store/model-store.js';
import { TelemetryStore } from './store/telemetry-store.js';

export const SERVER_VERSION = '0.1.0';

export interface RunningFleetServer {
  httpUrl: string;
  mqttUrl: string;
  publicKey: string;
  keyId: string;
  registry: ModelRegistry;
  deployments: Deployments;
  devices: DeviceStore;
  telemetry: TelemetryStore;
  stats: TelemetryIngestStats;
  close(): Promise<void>;
}

export async function startFleetServer(input: FleetConfigInput, logger?: Logger): Promise<RunningFleetServer> {
  const config = parseFleetConfig(input);
  const log = logger ?? pino({ level: config.log.level });
  const db = openFleetDb(join(config.dataDir, 'fleet.db'));
  const key = loadOrCreateSigningKey(join(config.dataDir, 'keys', 'signing.key'), log);
  const devices = new DeviceStore(db);
  const models = new ModelStore(db);
  const telemetry = new TelemetryStore(db);
  const artifacts = new ArtifactStore(join(config.dataDir, 'artifacts'));
  const sampleFiles = new ArtifactStore(join(config.dataDir, 'samples'));
  const samples = new SampleStore(db, sampleFiles);
  const registry = new ModelRegistry(models, artifacts, key, config.manifestTtlDays * 86_400_000);
  const cleanups: Array<() => Promise<void>> = [async () => void db.close()];
  let closing: Promise<void> | undefined;
  const closeAll = () => (closing ??= runCleanups());
  const runCleanups = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err: Error) => log.warn({ err: err.message }, 'error during shutdown'));
  };

  try {
    let broker: EmbeddedBroker | undefined;
    let mqttUrl: string;
    if (config.mqtt.mode === 'embedded') {
      broker = await startEmbeddedBroker(config.mqtt.host, config.mqtt.port, log);
      cleanups.push(() => broker!.close());
      mqttUrl = broker.url;
    } else {
      mqttUrl = config.mqtt.url;
    }
    const auth = config.mqtt.mode === 'external' ? { ...(config.mqtt.username ? { username: config.mqtt.username } : {}), ...(config.mqtt.password ? { password: config.mqtt.password } : {}) } : {};
    const bus = await FleetBus.connect(mqttUrl, log, auth);
    cleanups.push(() => bus.close());

    let publicUrl = '';
    const deployments = new Deployments(devices, models, () => publicUrl, (t, p, r) => bus.publish(t, p, r), log, (d) => samples.uploadUntil(d));
    const stats: TelemetryIngestStats = { batches: 0, stored: 0, duplicates: 0, rejected: 0 };
    const artifactStats: ArtifactStats = { requests: 0, bytesServed: 0 };
    const api = createFleetApi({
      registry,
      models,
      artifacts,
      artifactStats,
      devices,
      telemetry,
      deployments,
      samples,
      sampleFiles,
      health: () => ({ status: 'ok', version: SERVER_VERSION, mqttUrl, keyId: key.keyId, publicKey: key.publicKeyBase64, ingest: stats, artifactBytesServed: artifactStats.bytesServed }),
      log,
    });
    const http: ServerType = await new Promise((resolve, reject) => {
      const s = serve({ fetch: api.fetch, hostname: config.http.host, port: config.http.port }, () => resolve(s));
      s.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(`cannot serve HTTP on ${config.http.host}:${config.http.port}: ${err.code === 'EADDRINUSE' ? 'port in use' : err.message}; pick another with --http-port (0 = any free port)`)),
      );
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          // Keep-alive connections (the status page polls) would hold close() open forever.
          (http as HttpServer).closeAllConnections?.();
          http.close(() => resolve());
        }),
    );
    const address = http.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
    const httpUrl = `http://${host}:${port}`;
    publicUrl = (config.publicUrl ?? httpUrl).replace(/\/$/, '');
    bus.on('presence', presenceIngest({ devices, log }));
    bus.on('telemetry', telemetryIngest({ devices, telemetry, publish: (t, p) => bus.publish(t, p), log, stats }));
    bus.on('update', updateIngest({ devices, log }));
    bus.on('reference', referenceIngest({ telemetry, publish: (t, p) => bus.publish(t, p), log }));
    bus.on('sample', sampleIngest({ samples, publish: (t, p) => bus.publish(t, p), log }));

    log.info({ httpUrl, mqttUrl, keyId: key.keyId }, 'fleet server ready');
    return {
      httpUrl,
      mqttUrl,
      publicKey: key.publicKeyBase64,
      keyId: key.keyId,
      registry,
      deployments,
      devices,
      telemetry,
      stats,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
