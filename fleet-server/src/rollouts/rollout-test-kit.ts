/**
 * @module rollouts/rollout-test-kit
 * For the engine's tests: a real fleet.db file with the real stores, registry, deployments and
 * audit log, and devices that "report" through the same DeviceStore calls update-ingest makes.
 * Only the MQTT publish is a recorder. `reopen()` closes everything and opens it again on the
 * same file: a server restart as far as the engine can tell.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildReferenceModel } from '@edgeloop/models';
import { buildKeyset, signKeyset, type TelemetryRecord, type UpdateState } from '@edgeloop/protocol';
import { AuditLog } from '../audit/audit-log.js';
import { Deployments } from '../deploy/deployments.js';
import { loadOrCreateSigningKey } from '../keys/signing-key.js';
import { ArtifactStore } from '../registry/artifact-store.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { DeviceStore } from '../store/device-store.js';
import { openFleetDb, type FleetDb } from '../store/fleet-db.js';
import { ModelStore } from '../store/model-store.js';
import { TelemetryStore } from '../store/telemetry-store.js';
import { RolloutEngine } from './rollout-engine.js';

const silent = pino({ level: 'silent' });

export interface Kit {
  db: FleetDb;
  devices: DeviceStore;
  models: ModelStore;
  registry: ModelRegistry;
  deployments: Deployments;
  telemetry: TelemetryStore;
  audit: AuditLog;
  engine: RolloutEngine;
  published: string[];
  /** One engine pass, queued like the engine's own timer would run it. */
  tick(now?: number): Promise<void>;
  report(deviceId: string, version: number, state: UpdateState, extra?: { code?: string; reason?: string; role?: 'serve' | 'shadow' }): void;
  /** Predictions with reference values, received now; `error` is |prediction − reference|. */
  records(deviceId: string, version: number, n: number, error: number, shadow?: boolean): void;
  reopen(): Kit;
  close(): void;
}

export function openKit(dir = mkdtempSync(join(tmpdir(), 'edgeloop-rollouts-')), owner = true): Kit {
  const db = openFleetDb(join(dir, 'fleet.db'));
  const key = loadOrCreateSigningKey(join(dir, 'signing.key'));
  const devices = new DeviceStore(db);
  const models = new ModelStore(db);
  const registry = new ModelRegistry(models, new ArtifactStore(join(dir, 'artifacts')), key, 30 * 86_400_000);
  const published: string[] = [];
  // The kit's key is its own root: desired states need a keyset, and nothing here verifies it.
  const keyset = signKeyset(buildKeyset(1, [key.publicKey]), key);
  const deployments = new Deployments(devices, models, () => 'http://127.0.0.1:1', async (topic) => void published.push(topic), silent, undefined, () => keyset, () => key);
  const telemetry = new TelemetryStore(db);
  const audit = new AuditLog(db);
  const engine = new RolloutEngine({ db, devices, models, registry, deployments, audit, log: silent, tickMs: 1000 });
  let seq = (db.prepare('SELECT max(seq) AS s FROM telemetry').get() as { s: number | null }).s ?? 0;
  const kit: Kit = {
    db, devices, models, registry, deployments, telemetry, audit, engine, published,
    tick: (now) => engine.serial(() => engine.tick(now)),
    report(deviceId, version, state, extra = {}) {
      const device = db.prepare('SELECT session, report_seq FROM devices WHERE id = ?').get(deviceId) as { session: number; report_seq: number } | undefined;
      const taken = devices.recordUpdateReport(deviceId, { v: 1, model: 'distance', version, state, ts: Date.now(), session: device?.session ?? 0, reportSeq: (device?.report_seq ?? 0) + 1, ...extra });
      if (!taken.ok) throw new Error(`kit report refused: ${taken.reason}`);
    },
    records(deviceId, version, n, error, shadow = false) {
      const recs: TelemetryRecord[] = Array.from({ length: n }, (_, i) => ({
        seq: ++seq, ts: Date.now(), model: 'distance', version, output: [200 + i], prediction: 200 + i + error, reference: 200 + i, latencyMs: 1, features: {}, ...(shadow ? { shadow } : {}),
      }));
      telemetry.insertBatch(deviceId, 'stream-1', recs);
    },
    reopen() {
      db.close();
      return openKit(dir, owner);
    },
    close() {
      db.close();
      if (owner) rmSync(dir, { recursive: true, force: true });
    },
  };
  return kit;
}

/** Registers v1 (baseline) and v2 (candidate), and `n` online devices serving v1. */
export function seedFleet(kit: Kit, n: number): string[] {
  kit.registry.register({ name: 'distance', bytes: buildReferenceModel({ seed: 1 }) });
  kit.registry.register({ name: 'distance', bytes: buildReferenceModel({ seed: 2, bias: 130 }) });
  const sha = kit.models.get('distance', 1)!.sha256;
  const ids = Array.from({ length: n }, (_, i) => `dev-${String(i).padStart(2, '0')}`);
  for (const id of ids) {
    kit.devices.recordBirth({
      v: 1, type: 'birth', deviceId: id, session: 1, ts: Date.now(), agentVersion: 'test', arch: 'x64', platform: 'linux', cpus: 1, memTotalMb: 1,
      runtime: { name: 'test', version: '0' }, models: [{ name: 'distance', version: 1, sha256: sha }], stream: 'stream-1', backlog: 0,
    });
    kit.devices.assign(id, 'distance', 1);
    kit.report(id, 1, 'active');
  }
  return ids;
}
