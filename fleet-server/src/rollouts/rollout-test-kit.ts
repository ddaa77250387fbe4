/**
 * @module rollouts/rollout-test-kit
 * For the engine's tests: a real SQLite fleet store (opened through the factory) with the real
 * registry, deployments and audit log, and devices that "report" through the same
 * recordUpdateReport the update ingest calls.
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
import { recordUpdateReport } from '../deploy/update-reports.js';
import { loadOrCreateSigningKey } from '../keys/signing-key.js';
import { ArtifactStore } from '../registry/artifact-store.js';
import { ModelRegistry } from '../registry/model-registry.js';
import type { FleetStore } from '../store/fleet-store.js';
import { openFleetStore } from '../store/open-fleet-store.js';
import { RolloutEngine } from './rollout-engine.js';

const silent = pino({ level: 'silent' });

export interface Kit {
  store: FleetStore;
  registry: ModelRegistry;
  deployments: Deployments;
  audit: AuditLog;
  engine: RolloutEngine;
  published: string[];
  /** One engine pass, queued like the engine's own timer would run it. */
  tick(now?: number): Promise<void>;
  report(
    deviceId: string,
    version: number,
    state: UpdateState,
    extra?: { code?: string; reason?: string; role?: 'serve' | 'shadow' },
  ): Promise<void>;
  /** Predictions with reference values, received now; `error` is |prediction − reference|. */
  records(deviceId: string, version: number, n: number, error: number, shadow?: boolean): Promise<void>;
  /** The version of `distance` the device is assigned (serve role). */
  assignedVersion(deviceId: string): Promise<number | undefined>;
  reopen(): Promise<Kit>;
  close(): Promise<void>;
}

export async function openKit(
  dir = mkdtempSync(join(tmpdir(), 'edgeloop-rollouts-')),
  owner = true,
  firstSeq = 0,
): Promise<Kit> {
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  const key = loadOrCreateSigningKey(join(dir, 'signing.key'));
  const registry = new ModelRegistry(store.models, new ArtifactStore(join(dir, 'artifacts')), key, 30 * 86_400_000);
  const published: string[] = [];
  // The kit's key is its own root: desired states need a keyset, and nothing here verifies it.
  const keyset = signKeyset(buildKeyset(1, [key.publicKey]), key);
  const deployments = new Deployments(
    store,
    () => 'http://127.0.0.1:1',
    async (topic) => void published.push(topic),
    silent,
    undefined,
    async () => keyset,
    async () => key,
  );
  const audit = new AuditLog(store);
  const engine = new RolloutEngine({ store, registry, deployments, audit, log: silent, tickMs: 1000 });
  let seq = firstSeq;
  const kit: Kit = {
    store,
    registry,
    deployments,
    audit,
    engine,
    published,
    tick: (now) => engine.serial(() => engine.tick(now)),
    async report(deviceId, version, state, extra = {}) {
      const cursor = await store.devices.reportCursor(deviceId);
      const last = cursor?.reportSession === cursor?.session ? (cursor?.reportSeq ?? 0) : 0;
      const taken = await recordUpdateReport(store, deviceId, {
        v: 1,
        model: 'distance',
        version,
        state,
        ts: Date.now(),
        session: cursor?.session ?? 0,
        reportSeq: last + 1,
        ...extra,
      });
      if (!taken.ok) throw new Error(`kit report refused: ${taken.reason}`);
    },
    async records(deviceId, version, n, error, shadow = false) {
      const recs: TelemetryRecord[] = Array.from({ length: n }, (_, i) => ({
        seq: ++seq,
        ts: Date.now(),
        model: 'distance',
        version,
        output: [200 + i],
        prediction: 200 + i + error,
        reference: 200 + i,
        latencyMs: 1,
        features: {},
        ...(shadow ? { shadow } : {}),
      }));
      await store.telemetry.insertBatch(deviceId, 'stream-1', recs);
    },
    async assignedVersion(deviceId) {
      return (await store.assignments.get(deviceId, 'distance'))?.version;
    },
    async reopen() {
      await engine.stop();
      await store.close();
      return openKit(dir, owner, seq);
    },
    async close() {
      await engine.stop();
      await store.close();
      if (owner) rmSync(dir, { recursive: true, force: true });
    },
  };
  return kit;
}

/** Registers v1 (baseline) and v2 (candidate), and `n` online devices serving v1. */
export async function seedFleet(kit: Kit, n: number): Promise<string[]> {
  await kit.registry.register({ name: 'distance', bytes: buildReferenceModel({ seed: 1 }) });
  await kit.registry.register({ name: 'distance', bytes: buildReferenceModel({ seed: 2, bias: 130 }) });
  const sha = (await kit.store.models.get('distance', 1))!.sha256;
  const ids = Array.from({ length: n }, (_, i) => `dev-${String(i).padStart(2, '0')}`);
  for (const id of ids) {
    await kit.store.devices.recordBirth({
      v: 1,
      type: 'birth',
      deviceId: id,
      session: 1,
      ts: Date.now(),
      agentVersion: 'test',
      arch: 'x64',
      platform: 'linux',
      cpus: 1,
      memTotalMb: 1,
      runtime: { name: 'test', version: '0' },
      models: [{ name: 'distance', version: 1, sha256: sha }],
      stream: 'stream-1',
      backlog: 0,
    });
    await kit.store.assignments.set(id, 'distance', 1);
    await kit.report(id, 1, 'active');
  }
  return ids;
}
