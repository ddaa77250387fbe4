/**
 * @module server
 * Starts the fleet server: the fleet store (SQLite file or database URL), signing key, MQTT broker (embedded unless an external
 * one is configured), the device transport with its ingest handlers (in-process for the embedded
 * broker, the server's MQTT client for an external one), and the HTTP API.
 */
import type { Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { createFleetApi } from './api/app.js';
import { serveHttp } from './api/serve-http.js';
import type { ArtifactStats } from './api/model-routes.js';
import type { ContractViolation } from './api/response-contract.js';
import { DEFAULT_MQTT_PORT, parseFleetConfig, withEnvSecrets, type FleetConfigInput } from './config.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker.js';
import { DEFAULT_SERVER_USERNAME } from './broker/mosquitto-settings.js';
import { startMosquittoSync, untilBrokerAccepts } from './broker/mosquitto-sync.js';
import { hashMosquittoPassword } from './broker/mosquitto-passwd.js';
import { Deployments } from './deploy/deployments.js';
import { TransferService } from './transfer/transfer-service.js';
import { FleetBus } from './ingest/fleet-bus.js';
import type { DeviceTransport } from './ingest/device-transport.js';
import { SampleStore } from './samples/sample-store.js';
import { DatasetService } from './datasets/dataset-service.js';
import type { TelemetryIngestStats } from './ingest/telemetry-ingest.js';
import { liveErrorFromRollups } from './rollups/live-error.js';
import { wireDeviceChannels } from './ingest/device-channels.js';
import { decodePublicKey } from '@edgeloop/protocol';
import { lockStateDir } from '@edgeloop/protocol/state-dir';
import { AuditLog } from './audit/audit-log.js';
import { IdentityService, SERVER_MQTT_USERNAME } from './identity/identity-service.js';
import { newSecret } from './identity/secrets.js';
import { checkSharedRoot, KeyManager, keyHealth } from './keys/key-manager.js';
import { KeyRotation } from './keys/rotation.js';
import { ExpiryResigner } from './registry/expiry-resigner.js';
import { checkClusterSettings, instanceIdOf } from './cluster/cluster-settings.js';
import { runWhileLeader } from './cluster/leader-duties.js';
import { RolloutEngine } from './rollouts/rollout-engine.js';
import { ArtifactStore } from './registry/artifact-store.js';
import type { BlobNamespace, BlobStore } from './store/blobs/blob-store.js';
import { ModelRegistry } from './registry/model-registry.js';
import { DeviceDirectory } from './devices/device-directory.js';
import type { FleetStore } from './store/fleet-store.js';
import { openFleetStore, parseStoreLocation, redact } from './store/open-fleet-store.js';
import { storageFailureHandler } from './store/storage-failure.js';
import { loadTlsMaterial } from './tls/tls-material.js';
import type { DatasetSource } from './training/dataset-source.js';
import { lineageChecker } from './training/lineage-check.js';
import { startTraining } from './training/start-training.js';
import { startLoop } from './loop/start-loop.js';
import { rollupHousekeeping, startMonitoring } from './monitoring/start-monitoring.js';
import { busTlsOptions, checkPlainTransport } from './tls/transport-policy.js';
import { DEFAULT_MQTTS_PORT } from './tls/tls-settings.js';

export const SERVER_VERSION = '0.1.0';

import type { FleetServerParts, RunningFleetServer } from './running-server.js';

export type { FleetServerParts, RunningFleetServer };

export async function startFleetServer(
  input: FleetConfigInput,
  logger?: Logger,
  parts: FleetServerParts = {},
): Promise<RunningFleetServer> {
  const config = parseFleetConfig(withEnvSecrets(input, process.env));
  const log = logger ?? pino({ level: config.log.level });
  // Before anything is opened: a second server would run its own rollout engine and re-signer on
  // the same database and point server.json at itself.
  const lock = lockStateDir(
    config.dataDir,
    'fleet server',
    'stop it first, or give this one another directory with --data',
  );
  let store: FleetStore;
  let tls: Awaited<ReturnType<typeof loadTlsMaterial>> | undefined;
  const location = parseStoreLocation(config.db ?? join(config.dataDir, 'fleet.db'));
  const storeLocation = 'url' in location ? redact(location.url) : location.sqlitePath;
  const onStorageFailure = storageFailureHandler(log);
  try {
    checkPlainTransport(config, log);
    checkClusterSettings(config, location);
    tls = config.tls ? await loadTlsMaterial(config.tls, config.dataDir, log) : undefined;
    store = await openFleetStore(location, {
      ...(config.telemetryRetentionDays === undefined || 'sqlitePath' in location
        ? {}
        : { telemetryRetentionDays: config.telemetryRetentionDays }),
      onStorageFailure: (err) => onStorageFailure.failed(err),
    });
  } catch (err) {
    lock.release();
    throw err;
  }
  // Until the cleanup list below exists, a failed step must still free the database and the lock
  // (an embedding that retries in this process would otherwise find its own lock held).
  const orRelease = async <T>(step: () => T | Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (err) {
      await store.close();
      lock.release();
      throw err;
    }
  };
  const rootPublicKey = await orRelease(() => {
    try {
      return config.rootPublicKey ? decodePublicKey(config.rootPublicKey) : undefined;
    } catch (err) {
      throw new Error(
        `rootPublicKey: ${(err as Error).message}; give the base64 printed by "edgeloop keys init-root"`,
        { cause: err },
      );
    }
  });
  // Keys, artifacts and samples: in the folder all instances of a cluster share (docs/cluster.md).
  const sharedDir = config.cluster.sharedDir ?? config.dataDir;
  const { keys, boot } = await orRelease(() =>
    store.cluster.startupStep(async () => {
      if (config.cluster.sharedDir !== undefined && !rootPublicKey)
        await checkSharedRoot(store, join(sharedDir, 'keys'));
      const km = new KeyManager({
        store,
        keysDir: join(sharedDir, 'keys'),
        ...(rootPublicKey ? { rootPublicKey } : {}),
        log,
      });
      return { keys: km, boot: await km.bootstrap() };
    }),
  );
  const audit = new AuditLog(store);
  const devices = new DeviceDirectory(store);
  // Filled in once the broker and HTTP addresses are known; enrollment hands them to devices.
  const endpoints = { mqttUrl: '', httpUrl: '' };
  // The root key never changes while the server runs: devices are told to trust it at enrollment.
  const identity = new IdentityService(
    store,
    () => ({ ...endpoints, trustedKeys: [keys.root.publicKeyBase64] }),
    // An external Mosquitto checks device passwords against its own file: store its hash too.
    config.mqtt.mode === 'external' && config.mqtt.mosquitto
      ? { brokerPasswordHash: (password) => hashMosquittoPassword(password) }
      : {},
  );
  const admin = await orRelease(() =>
    identity.adminTokens.bootstrap({ dataDir: config.dataDir, configured: config.adminToken, log }),
  );
  // The full-access user of the embedded broker (tools, sensor publishers) has a secret that lives only in this process.
  const configuredMqttPassword = config.mqtt.mode === 'embedded' ? config.mqtt.serverPassword : undefined;
  const serverMqttPassword = configuredMqttPassword ?? newSecret(32);
  const models = store.models;
  const telemetry = store.telemetry;
  const blobs = (ns: BlobNamespace): BlobStore =>
    config.cluster.blobs === 'postgres' && store.blobStore
      ? store.blobStore(ns, join(config.dataDir, 'staging', ns))
      : new ArtifactStore(join(sharedDir, ns), { shared: config.cluster.sharedDir !== undefined });
  const artifacts = await orRelease(() => blobs('artifacts'));
  const sampleFiles = await orRelease(() => blobs('samples'));
  const samples = new SampleStore(store, sampleFiles);
  const datasetService = new DatasetService({ store, blobs: sampleFiles });
  // Training and lineage read snapshots through the narrow DatasetSource; tests may hand in folders.
  const datasets: DatasetSource = parts.datasets ?? datasetService;
  const registry = new ModelRegistry(models, artifacts, () => keys.signingKey(), config.manifestTtlDays * 86_400_000, {
    ...config.registry,
    checkLineage: lineageChecker(store.training, datasets),
  });
  const cleanups: Array<() => Promise<void>> = [async () => lock.release(), () => store.close()];
  let closing: Promise<void> | undefined;
  const closeAll = () => (closing ??= runCleanups());
  onStorageFailure.stop = closeAll;
  let stopped: Promise<void> | undefined;
  const runCleanups = async () => {
    for (const fn of cleanups.reverse())
      await fn().catch((err: Error) => log.warn({ err: err.message }, 'error during shutdown'));
  };

  try {
    let broker: EmbeddedBroker | undefined;
    let mqttUrl: string;
    // The embedded broker stops reading devices' sockets while the telemetry ingest is saturated;
    // the ingest is made later, once the store and the transport are up.
    let ingestSaturated = (): boolean => false;
    if (config.mqtt.mode === 'embedded') {
      const mqttPort = config.mqtt.port ?? (tls ? DEFAULT_MQTTS_PORT : DEFAULT_MQTT_PORT);
      broker = await startEmbeddedBroker(
        config.mqtt.host,
        mqttPort,
        log,
        { identity, serverPassword: serverMqttPassword },
        config.mqtt,
        tls,
        { saturated: () => ingestSaturated() },
      );
      cleanups.push(() => broker!.close());
      mqttUrl = broker.url;
    } else {
      mqttUrl = config.mqtt.url;
    }
    const mosquitto =
      config.mqtt.mode === 'external' && config.mqtt.mosquitto
        ? await startMosquittoSync(config.mqtt, config.mqtt.mosquitto, {
            store,
            identity,
            log,
            dataDir: config.dataDir,
            pollMs: config.cluster.leaderPollMs,
          })
        : undefined;
    const auth =
      config.mqtt.mode === 'external'
        ? {
            ...(config.mqtt.username || mosquitto ? { username: config.mqtt.username ?? DEFAULT_SERVER_USERNAME } : {}),
            ...(config.mqtt.password ? { password: config.mqtt.password } : {}),
          }
        : { username: SERVER_MQTT_USERNAME, password: serverMqttPassword };
    // A Mosquitto we just told to reload may still refuse our own user for a moment.
    const busAuth = { ...auth, ...busTlsOptions(config, tls, mqttUrl) };
    if (mosquitto) await untilBrokerAccepts(mqttUrl, busAuth);
    const shareGroup =
      config.mqtt.mode === 'external' && config.mqtt.sharedSubscriptions ? { shareGroup: config.mqtt.shareGroup } : {};
    const bus: DeviceTransport = broker ? broker.transport : await FleetBus.connect(mqttUrl, log, busAuth, shareGroup);
    cleanups.push(() => bus.close());
    const transfer = new TransferService(store, artifacts, log, config.transfer);
    cleanups.push(() => transfer.close());

    let publicUrl = '';
    const deployments = new Deployments(
      store,
      () => publicUrl,
      (t, p, r) => bus.publish(t, p, r),
      log,
      (d) => samples.requests(d),
      () => keys.keysetEnvelope(),
      () => keys.signingKey(),
    );
    const rotation = new KeyRotation({ keys, registry, store, deployments, audit, log });
    const resigner = new ExpiryResigner({ registry, store, deployments, audit, log });
    const rollouts = new RolloutEngine({
      ...{ store, registry, deployments, audit, log, tickMs: config.rollouts.tickMs },
      turn: (fn) => store.cluster.decisionTurn(fn),
    });
    const training = await startTraining({
      ...{ config, store, datasets, artifacts, registry, audit, log },
      soleOwner: 'sqlitePath' in location,
    });
    cleanups.push(() => training.close());
    const monitoring = await startMonitoring({
      config,
      store,
      log,
      ...(parts.monitoringNow ? { now: parts.monitoringNow } : {}),
    });
    cleanups.push(() => monitoring.close());
    const loop = await startLoop({
      ...{ config, store, datasets: datasetService, samples, sampleFiles, artifacts, deployments, training, rollouts },
      ...{ monitoring, audit, log },
      ...(parts.monitoringNow ? { now: parts.monitoringNow } : {}),
    });
    cleanups.push(() => loop.stop());
    const instance = instanceIdOf(config);
    const lease = store.cluster.leaderLease({ instanceId: instance, log, pollMs: config.cluster.leaderPollMs });
    const stats: TelemetryIngestStats = { batches: 0, stored: 0, duplicates: 0, rejected: 0 };
    const artifactStats: ArtifactStats = { requests: 0, bytesServed: 0 };
    const contractViolations: ContractViolation[] = [];
    const onContractViolation = (v: ContractViolation) => {
      contractViolations.push(v);
      log.error(v, 'API answer outside the REST contract');
    };
    const api = createFleetApi({
      registry,
      models,
      artifacts,
      artifactStats,
      devices,
      telemetry,
      liveError: (q) => liveErrorFromRollups(store, q),
      deployments,
      samples,
      sampleFiles,
      datasets: datasetService,
      datasetSource: datasets,
      audit,
      rollouts,
      keys,
      rotation,
      identity,
      transfer,
      training,
      monitoring,
      loop,
      store,
      ...(broker ? { brokerMetrics: broker.metrics } : {}),
      ...(tls ? { caFingerprint: tls.caFingerprint } : {}),
      // Console cookies only over TLS: the server's own, or a proxy's in front of it.
      ...(tls || config.publicUrl?.startsWith('https://') ? { secureCookies: true } : {}),
      health: async () => ({
        status: 'ok',
        version: SERVER_VERSION,
        mqttUrl,
        ...(await keyHealth(keys)),
        ingest: stats,
        artifactBytesServed: artifactStats.bytesServed,
        transfer: { ...transfer.slots.stats(), ...transfer.stats },
        ...(mosquitto ? { mosquitto: mosquitto.status() } : {}),
        cluster: { instance, leader: lease.leader },
      }),
      log,
      changes: store.changes,
      ...(config.validateResponses || process.env.EDGELOOP_VALIDATE_RESPONSES === '1' ? { onContractViolation } : {}),
    });
    const http = await serveHttp(api.fetch, config.http, tls);
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          // Keep-alive connections (browsers on the console keep theirs open) would hold close() open forever.
          (http as HttpServer).closeAllConnections?.();
          http.close(() => resolve());
        }),
    );
    const address = http.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
    const httpUrl = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    publicUrl = (config.publicUrl ?? httpUrl).replace(/\/$/, '');
    endpoints.mqttUrl = config.publicMqttUrl ?? mqttUrl;
    endpoints.httpUrl = publicUrl;
    const ingestTelemetry = wireDeviceChannels(bus, { store, deployments, samples, transfer, stats, log, monitoring });
    ingestSaturated = () => ingestTelemetry.saturated;

    // A keyset made at start-up (first start, adopted legacy key, new root) needs the manifests
    // re-signed by its key and the devices told; once the artifact URL is known.
    if (boot.state === 'activated') await rotation.afterBootstrap();
    const housekeeping = rollupHousekeeping(config, store, 'sqlitePath' in location, log);
    // Fleet-wide duties run on one server of a cluster at a time (cluster/leader.ts).
    runWhileLeader(
      lease,
      [
        ...(mosquitto
          ? [{ name: 'mosquitto files', start: () => mosquitto.start(), stop: () => mosquitto.stop() }]
          : []),
        {
          name: 'expiry re-signer',
          start: () => resigner.start(config.resignIntervalMinutes * 60_000),
          stop: () => resigner.stop(),
        },
        { name: 'rollouts', start: () => rollouts.start(), stop: () => rollouts.stop() },
        { name: 'rollup housekeeping', start: () => housekeeping.start(), stop: () => housekeeping.stop() },
        { name: 'monitoring', start: () => monitoring.start(), stop: () => monitoring.stop() },
        { name: 'retraining loop', start: () => loop.start(), stop: () => loop.stop() },
        { name: 'retained presence', start: () => bus.replayRetainedPresence?.(), stop: () => undefined },
      ],
      log,
    );
    await lease.start();
    cleanups.push(() => lease.close());

    const keyInfo = await keyHealth(keys);
    lock.describe({ http: httpUrl, mqtt: mqttUrl });
    log.info(
      { httpUrl, mqttUrl, rootKeyId: keyInfo.rootKeyId, signingKeyId: keyInfo.signingKeyId },
      'fleet server ready',
    );
    return {
      httpUrl,
      mqttUrl,
      publicKey: keyInfo.publicKey,
      keyId: keyInfo.keyId,
      rootKeyId: keyInfo.rootKeyId,
      keys,
      rotation,
      resigner,
      rollouts,
      training,
      monitoring,
      loop,
      store,
      storeLocation,
      models,
      publish: (topic, payload, retain = false) => bus.publish(topic, payload, retain),
      registry,
      deployments,
      devices,
      telemetry,
      datasets: datasetService,
      stats,
      transfer,
      ...(mosquitto ? { mosquitto } : {}),
      identity,
      audit,
      ...(admin.token ? { adminToken: admin.token } : {}),
      adminTokenFile: admin.file,
      ...(broker ? { broker } : {}),
      ...(tls ? { tls: { caFile: tls.caFile, caFingerprint: tls.caFingerprint } } : {}),
      contractViolations,
      // Logged once, as the agent does, so a supervisor's log shows the stop was clean.
      close: () => (stopped ??= closeAll().then(() => log.info('fleet server stopped'))),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
