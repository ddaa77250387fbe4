import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SAMPLE_MODELS } from '@edgeloop/models';
import {
  MANIFEST_SCHEMA, generateKeyPair, sha256Hex, signManifest, trustedKeyMap, type DesiredState, type ManifestInput, type UpdateReport,
} from '@edgeloop/protocol';
import { openAgentDb } from '../store/agent-db.js';
import { ModelState } from '../store/model-state.js';
import { ActiveModels } from '../runtime/active-models.js';
import { UpdateManager } from './update-manager.js';

const key = generateKeyPair();
const v1 = readFileSync(SAMPLE_MODELS.v1);
const v2 = readFileSync(SAMPLE_MODELS.v2);

/** A real HTTP artifact server; `extra` appends bytes beyond the artifact (endless-data attack). */
async function artifactServer(files: Record<string, { bytes: Uint8Array; extra?: number }>): Promise<{ url: string; hits: string[]; server: Server }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    const name = (req.url ?? '').slice(1);
    hits.push(name);
    const f = files[name];
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream' }); // no content-length: chunked
    res.write(f.bytes);
    if (f.extra) res.write(Buffer.alloc(f.extra, 7));
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, hits, server };
}

function manifest(version: number, bytes: Uint8Array, overrides: Partial<ManifestInput> = {}): ManifestInput {
  return {
    schema: MANIFEST_SCHEMA, name: 'distance', version,
    artifact: { sha256: sha256Hex(bytes), size: bytes.length, mediaType: 'application/onnx' },
    created: new Date(Date.now() - 60_000).toISOString(), expires: new Date(Date.now() + 86_400_000).toISOString(),
    targets: { arch: ['x64', 'arm64', 'arm'] },
    inputs: [{ name: 'image', dtype: 'float32', shape: ['batch', 3, 48, 64] }],
    outputs: [{ name: 'distance', dtype: 'float32', shape: ['batch', 1] }],
    ...overrides,
  };
}

function harness(t: { after: (fn: () => void | Promise<void>) => void }, dir = mkdtempSync(join(tmpdir(), 'edgeloop-updates-'))) {
  const db = openAgentDb(join(dir, 'agent.db'));
  const models = new ActiveModels();
  const reports: Array<Omit<UpdateReport, 'v' | 'ts' | 'reportSeq'>> = [];
  const manager = new UpdateManager({
    modelsDir: join(dir, 'models'), trustedKeys: trustedKeyMap([key.publicKey]), arch: 'x64', hardware: 'raspberrypi4', runner: { intraOpThreads: 1 },
    models, state: new ModelState(db), report: (r) => reports.push(r), log: pino({ level: 'silent' }),
  });
  let closed = false;
  const close = async () => { if (closed) return; closed = true; await models.closeAll(); db.close(); };
  t.after(close);
  return { dir, manager, models, reports, close };
}

const desired = (entries: Array<{ m: ManifestInput; url: string }>): DesiredState => ({
  v: 1, deviceId: 'pi-1', issuedAt: Date.now(), models: entries.map((e) => ({ manifest: signManifest(e.m, key), artifactUrl: e.url })),
});

test('a valid update goes downloading → verified → active and serves', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1 } });
  t.after(() => files.server.close());
  const h = harness(t);
  await h.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  assert.deepEqual(h.reports.map((r) => r.state), ['downloading', 'verified', 'active']);
  assert.equal(h.models.get('distance')?.manifest.version, 1);
  // Re-delivery of the same desired state is a no-op (no second download).
  await h.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  assert.equal(files.hits.length, 1);
});

test('more bytes than the signed length abort the download: too-long', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1, extra: 1 } });
  t.after(() => files.server.close());
  const h = harness(t);
  await h.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  assert.equal(h.reports.at(-1)?.state, 'rejected');
  assert.equal(h.reports.at(-1)?.code, 'too-long');
  assert.equal(h.models.get('distance'), undefined);
});

test('expired manifests and manifests for other hardware are refused before any download', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1 } });
  t.after(() => files.server.close());
  const h = harness(t);
  const expired = manifest(1, v1, { created: '2020-01-01T00:00:00Z', expires: '2020-02-01T00:00:00Z' });
  await h.manager.apply(desired([{ m: expired, url: `${files.url}/v1` }]));
  assert.equal(h.reports.at(-1)?.code, 'expired');
  await h.manager.apply(desired([{ m: manifest(1, v1, { targets: { arch: ['x64'], hardware: ['jetson-orin'] } }), url: `${files.url}/v1` }]));
  assert.equal(h.reports.at(-1)?.code, 'wrong-target');
  assert.equal(files.hits.length, 0);
});

test('a model that will not load fails its update and the previous one keeps serving', async (t) => {
  const garbage = Buffer.from('signed, hashed, but not a model at all');
  const files = await artifactServer({ v1: { bytes: v1 }, bad: { bytes: garbage } });
  t.after(() => files.server.close());
  const h = harness(t);
  await h.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  await h.manager.apply(desired([{ m: manifest(2, garbage), url: `${files.url}/bad` }]));
  assert.equal(h.reports.at(-1)?.state, 'failed');
  assert.equal(h.reports.at(-1)?.code, 'load-failed');
  assert.equal(h.models.get('distance')?.manifest.version, 1);
});

test('anti-rollback survives a restart: the older version is refused after reopening the state', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1 }, v2: { bytes: v2 } });
  t.after(() => files.server.close());
  const first = harness(t);
  await first.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  await first.manager.apply(desired([{ m: manifest(2, v2), url: `${files.url}/v2` }]));
  assert.equal(first.models.get('distance')?.manifest.version, 2);
  await first.close();

  const second = harness(t, first.dir);
  await second.manager.restore();
  assert.equal(second.models.get('distance')?.manifest.version, 2, 'restored after restart');
  await second.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  assert.equal(second.reports.at(-1)?.state, 'rejected');
  assert.equal(second.reports.at(-1)?.code, 'rollback');
  assert.equal(second.models.get('distance')?.manifest.version, 2);
});

test('a model dropped from the desired state is removed', async (t) => {
  const files = await artifactServer({ v1: { bytes: v1 } });
  t.after(() => files.server.close());
  const h = harness(t);
  await h.manager.apply(desired([{ m: manifest(1, v1), url: `${files.url}/v1` }]));
  await h.manager.apply(desired([]));
  assert.equal(h.reports.at(-1)?.state, 'removed');
  assert.equal(h.models.get('distance'), undefined);
});
