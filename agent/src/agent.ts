/**
 * @module agent
 * Wires the agent together: SQLite state → restored models → local API → fleet link → sync and
 * updates. `startAgent` returns once the API listens; the fleet link connects in the background
 * and keeps retrying, so a device serves predictions even when it has never reached its fleet.
 */
import type { Server as HttpServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { arch, cpus, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import pino, { type Logger } from 'pino';
import sharp from 'sharp';
import {
  answerClientErrorsWithJson,
  decodePublicKey,
  deviceTopic,
  encodeMessage,
  trustedKeyMap,
  type Birth,
} from '@edgeloop/protocol';
import { lockStateDir } from '@edgeloop/protocol/state-dir';
import type { AgentConfig } from './config.js';
import { createLocalApi } from './api/local-api.js';
import { bufferWriteProbe, checkReadiness } from './api/readiness.js';
import { FleetLink } from './link/fleet-link.js';
import { loadFleetCa } from './link/fleet-tls.js';
import { AgentMetrics } from './metrics/agent-metrics.js';
import { Predictor, recordBody } from './predict/predictor.js';
import { ShadowRunner } from './runtime/shadow-runner.js';
import { ActiveModels } from './runtime/active-models.js';
import { runtimeInfo } from './runtime/model-runner.js';
import { selectBackend } from './runtime/select-backend.js';
import { KeyValue, openAgentDb } from './store/agent-db.js';
import { BufferLimits } from './store/buffer-limits.js';
import { startReferenceValues } from './sensors/reference-values.js';
import { startSensors } from './sensors/sensors.js';
import { startRetrainingSamples } from './sampling/retraining-samples.js';
import { captureRefusal } from './sampling/sampler.js';
import { ModelState } from './store/model-state.js';
import { RecordBuffer } from './store/record-buffer.js';
import { startAgentOutbox } from './outbox/agent-outbox.js';
import { UpdateManager, type UpdateReportBody } from './updates/update-manager.js';
import { MqttChunkClient } from './updates/mqtt-chunk-source.js';
import { TrustStore } from './updates/trust-store.js';
import { DesiredStateGate } from './updates/desired-gate.js';
import { startMonitoring, type Monitoring } from './monitoring/monitoring.js';

export const AGENT_VERSION = '0.1.0';

export interface RunningAgent {
  deviceId: string;
  apiUrl: string;
  stream: string;
  predictor: Predictor;
  buffer: RecordBuffer;
  /** On-device monitoring (absent when monitoring.enabled is off). */
  monitoring?: Monitoring;
  isConnected(): boolean;
  close(): Promise<void>;
}

export async function startAgent(config: AgentConfig, logger?: Logger): Promise<RunningAgent> {
  const log = (logger ?? pino({ level: config.log.level })).child({ deviceId: config.deviceId });
  // libvips keeps the last 100 operations and their buffers (up to 50 MB) for reuse; every frame
  // a device decodes is a new image, so the cache never hits and only holds ~6 MB of memory after
  // a few hundred image predictions (measured: same predict latency without it).
  sharp.cache(false);
  // Before anything is opened: a backend that cannot load (native on armv7) must fail cleanly.
  const backend = await selectBackend(config.runtime.backend, log);
  // Assigned once the API listens; reports made before that (during restore) go nowhere, and
  // the birth message carries the resulting state instead.
  const linkRef: { current?: FleetLink } = {};
  // On-device monitoring starts once models and metrics exist; the outbox asks it earlier.
  const monitoringRef: { current?: Monitoring } = {};
  const fleetCa = loadFleetCa(config, log);
  // Before anything is opened or connected: a bad key must fail start-up with nothing to undo.
  // Root keys: they sign the keysets that name the manifest signing keys (updates/trust-store.ts).
  let rootKeys: Map<string, Uint8Array>;
  try {
    rootKeys = trustedKeyMap(config.fleet.trustedKeys.map(decodePublicKey));
  } catch (err) {
    throw new Error(`fleet.trustedKeys: ${(err as Error).message}`, { cause: err });
  }
  const lock = lockStateDir(
    config.dataDir,
    'agent',
    'stop it first (systemctl stop edgeloop-agent), or give this one its own dataDir',
  );
  const db = openAgentDb(join(config.dataDir, 'agent.db'));
  const kv = new KeyValue(db);
  const stream = kv.get('stream') ?? (kv.set('stream', `s${randomBytes(8).toString('hex')}`), kv.get('stream')!);
  const boot = kv.next('boot');
  const buffer = new RecordBuffer(db);
  const limits = new BufferLimits(
    db,
    kv,
    config.dataDir,
    {
      maxBytes: config.buffer.maxBytes,
      maxAgeMs: config.buffer.maxAgeDays * 86_400_000,
      minFreeDiskBytes: config.buffer.minFreeDiskMb * 1048576,
    },
    log,
  );
  limits.enforce();
  const fleetConnection = {
    url: config.fleet.mqttUrl,
    ...(config.fleet.username ? { username: config.fleet.username } : {}),
    ...(config.fleet.password ? { password: config.fleet.password } : {}),
    ...(fleetCa ? { ca: fleetCa.pem } : {}),
  };
  const references = startReferenceValues({ config: config.sensors, db, buffer, log });
  const samples = startRetrainingSamples({ config: config.sampling, db, dataDir: config.dataDir, log });
  // Everything the fleet must ack (records, late references, samples, update reports) leaves
  // through one durable outbox; its lanes send only while the link is up.
  const sending = startAgentOutbox({
    sync: config.sync,
    db,
    stream,
    buffer,
    dropped: () => limits.dropped(),
    ...(references ? { references: references.store } : {}),
    ...(samples ? { samples: { store: samples.store, upload: config.sampling.upload } } : {}),
    session: () => linkRef.current?.announcedSession,
    publish: (kind, payload) =>
      linkRef.current
        ? linkRef.current.publish(deviceTopic(config.deviceId, kind), payload)
        : Promise.reject(new Error('the fleet link is not up yet')),
    telemetrySendThrough: () => monitoringRef.current?.sendThrough() ?? Infinity,
    log,
  });
  const { outbox } = sending;
  if (samples) {
    buffer.onStored((seq, r) => {
      if (r.input)
        samples.offer({
          seq,
          model: r.model,
          version: r.version,
          ts: r.ts,
          prediction: r.prediction ?? null,
          reference: r.reference ?? null,
          contentType: r.input.contentType,
          data: r.input.data,
          ...(r.input.confidence !== undefined ? { confidence: r.input.confidence } : {}),
        });
    });
    if (references) references.store.onApplied = (seq, value) => samples.onReference(seq, value);
  }
  const state = new ModelState(db);
  const models = new ActiveModels();
  // Artifact ranges over the fleet link (updates.transport mqtt, or auto when the artifact URL is unreachable).
  const chunks = new MqttChunkClient(
    (req) =>
      linkRef.current
        ? linkRef.current.publish(deviceTopic(config.deviceId, 'fetch'), encodeMessage(req))
        : Promise.reject(new Error('the fleet link is not up yet')),
    log.child({ part: 'mqtt-transfer' }),
  );
  // Shadow slots: candidates run beside the serving models, never answering (runtime/shadow-runner.ts).
  const shadows = new ActiveModels();
  const metrics = new AgentMetrics({
    db,
    bufferRecords: () => buffer.count(),
    bufferBytes: () => limits.usedBytes(),
    dropped: () => limits.dropped(),
    connected: () => linkRef.current?.connected ?? false,
    models: () => models.list().map((r) => r.manifest),
    backend: backend.name,
    // Read at scrape time; the sensors unit starts after the predictor below.
    sensors: () =>
      sensors && {
        ...sensors.link.stats,
        models: sensors.inputs?.statsByModel() ?? [],
        references: references?.joiner.stats,
      },
    outbox: () => outbox.stats(),
  });
  const report = (r: UpdateReportBody) => {
    metrics.updateReported(r);
    sending.report(r);
  };
  const trust = new TrustStore(rootKeys, kv, log);
  const desiredGate = new DesiredStateGate({
    deviceId: config.deviceId,
    trust,
    kv,
    log,
    onRefused: (code) => metrics.desiredRefused(code),
  });
  const updates = new UpdateManager({
    modelsDir: join(config.dataDir, 'models'),
    trust,
    arch: arch(),
    ...(config.hardware ? { hardware: config.hardware } : {}),
    runner: { intraOpThreads: config.runtime.intraOpThreads, backend },
    models,
    state,
    report,
    log,
    options: config.updates,
    shadows,
    chunks,
    ...(config.fleet.username && config.fleet.password
      ? {
          downloadAuth: {
            username: config.fleet.username,
            password: config.fleet.password,
            ...(fleetCa ? { ca: fleetCa } : {}),
          },
        }
      : {}),
    ...(config.fleet.httpUrl ? { fleetHttpUrl: config.fleet.httpUrl } : {}),
  });
  await updates.restore();

  const shadowRunner = new ShadowRunner(
    shadows,
    (r) => buffer.append(r),
    (m, outputs) => {
      const { output, prediction } = recordBody(m, outputs);
      return { output, prediction };
    },
    { observer: metrics, log },
  );
  const monitoring = config.monitoring.enabled
    ? startMonitoring({
        config: config.monitoring,
        db,
        kv,
        stream,
        buffer,
        manifests: (model) =>
          [models.get(model)?.manifest, shadows.get(model)?.manifest].filter((m) => m !== undefined),
        sending,
        ...(samples ? { samples } : {}),
        registry: metrics.registry,
        log,
      })
    : undefined;
  monitoringRef.current = monitoring;
  if (monitoring && references) {
    const sampling = references.store.onApplied;
    references.store.onApplied = (seq, value) => {
      sampling?.(seq, value);
      monitoring.onReference(seq, value);
    };
  }
  const predictor = new Predictor(models, buffer, stream, {
    shadow: shadowRunner,
    featuresFor: (model) => config.features.models[model] ?? config.features.default,
    observer: metrics,
    ...(monitoring ? { flagged: monitoring.flagged } : {}),
  });
  // Sensor subscriptions start once the predictor exists: input bindings run models through it.
  const sensors = startSensors({
    config: config.sensors,
    deviceId: config.deviceId,
    fleet: fleetConnection,
    references,
    predict: (model, input) => predictor.predict(model, input),
    manifestOf: (model) => models.get(model)?.manifest,
    log,
  });
  const runningModels = () =>
    models
      .list()
      .map((r) => ({ name: r.manifest.name, version: r.manifest.version, sha256: r.manifest.artifact.sha256 }));

  // Bounded buffer and bounded WAL: check limits on a timer and after bursts of appends; a
  // PASSIVE checkpoint never blocks writers, so running it often keeps the WAL file small.
  let appendsSinceCheck = 0;
  const housekeeping = () => {
    appendsSinceCheck = 0;
    try {
      limits.enforce();
      references?.housekeeping();
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'buffer housekeeping failed');
    }
  };
  const housekeepingTimer = setInterval(housekeeping, config.buffer.checkIntervalMs);
  housekeepingTimer.unref();
  const stopBurstCheck = buffer.onAppend(() => {
    if (++appendsSinceCheck >= 50) setImmediate(housekeeping);
  });

  const birth = (session: number): Birth => ({
    v: 1,
    type: 'birth',
    deviceId: config.deviceId,
    session,
    ts: Date.now(),
    agentVersion: AGENT_VERSION,
    arch: arch(),
    platform: platform(),
    ...(config.hardware ? { hardware: config.hardware } : {}),
    cpus: cpus().length,
    memTotalMb: Math.round(totalmem() / 1048576),
    runtime: runtimeInfo(backend),
    models: runningModels(),
    stream,
    backlog: buffer.count(),
    dropped: limits.dropped(),
  });

  const probeBuffer = bufferWriteProbe(db);
  const api = createLocalApi({
    predictor,
    models: runningModels,
    ready: () => checkReadiness(models.names().length, probeBuffer),
    metrics,
    onErrorStatus: (status) => metrics.requestError(status),
    health: () => ({
      status: 'ok',
      deviceId: config.deviceId,
      agentVersion: AGENT_VERSION,
      connected: linkRef.current?.connected ?? false,
      models: runningModels(),
      backlog: buffer.count(),
      dropped: limits.dropped(),
      stream,
      ...(monitoring ? { monitoring: monitoring.health() } : {}),
    }),
    onError: (err) => log.error({ err }, 'unexpected error in local API'),
  });

  let server: ServerType;
  try {
    server = await new Promise((resolve, reject) => {
      const s = serve({ fetch: api.fetch, hostname: config.api.host, port: config.api.port }, () => resolve(s));
      answerClientErrorsWithJson(s as HttpServer);
      s.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `cannot listen on ${config.api.host}:${config.api.port}: ${err.message}; set api.port (0 = any free port)`,
          ),
        ),
      );
    });
  } catch (err) {
    // Nothing may keep the process alive after a failed start (sensor links, timers, the db).
    monitoring?.close();
    outbox.close();
    clearInterval(housekeepingTimer);
    stopBurstCheck();
    await sensors?.close();
    await updates.close();
    await models.closeAll();
    await shadows.closeAll();
    db.close();
    lock.release();
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  const apiUrl = `http://${config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host}:${port}`;
  lock.describe({ api: apiUrl, device: config.deviceId });
  log.info({ apiUrl, stream, boot, backlog: buffer.count(), models: runningModels() }, 'agent API listening');

  const refuseCapture = captureRefusal(log);
  const link = new FleetLink({
    mqttUrl: config.fleet.mqttUrl,
    deviceId: config.deviceId,
    ...(config.fleet.username ? { username: config.fleet.username } : {}),
    ...(config.fleet.password ? { password: config.fleet.password } : {}),
    ...(fleetCa ? { ca: fleetCa } : {}),
    boot,
    birth,
    onAck: (ack) => outbox.handleAck(ack),
    onDesired: (payload) => {
      const desired = desiredGate.admit(payload);
      if (!desired) return;
      sending.requestSamplesUntil(desired.sampleUploadUntil);
      monitoring?.applyDesired(desired.monitoring);
      if (samples) samples.capture(desired.sampleCapture);
      else if (desired.sampleCapture) refuseCapture(desired.sampleCapture);
      void updates.apply(desired);
    },
    onChunk: (payload) => chunks.handle(payload),
    onConnectionChange: (connected) => {
      chunks.setConnected(connected);
      outbox.setConnected(connected);
      monitoring?.setConnected(connected);
    },
    reconnectMinMs: config.fleet.reconnectMinMs,
    reconnectMaxMs: config.fleet.reconnectMaxMs,
    log,
  });
  linkRef.current = link;

  let closed = false;
  return {
    deviceId: config.deviceId,
    apiUrl,
    stream,
    predictor,
    buffer,
    ...(monitoring ? { monitoring } : {}),
    isConnected: () => link.connected,
    async close() {
      if (closed) return;
      closed = true;
      // Stop taking requests first, so nothing is answered that cannot be buffered.
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // …and no sensor input either; predictions in flight are committed before going on.
      await sensors?.close();
      // Open summary windows and queued folds are written before the database goes.
      monitoring?.close();
      outbox.close();
      clearInterval(housekeepingTimer);
      stopBurstCheck();
      // Stops a download in flight (its progress is kept) before the link and database go.
      await updates.close();
      await link.close();
      await models.closeAll();
      await shadows.closeAll();
      db.close();
      lock.release();
      log.info('agent stopped');
    },
  };
}
