/**
 * @module updates/test-support
 * Test-only helpers for the update tests: a real HTTP artifact server that can honour or ignore
 * Range requests, corrupt chunks, cut connections and send endless data, and an UpdateManager on
 * a throwaway database. Not imported by production code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import {
  MANIFEST_SCHEMA,
  buildKeyset,
  chunkHashes,
  generateKeyPair,
  sha256Hex,
  signKeyset,
  signManifest,
  trustedKeyMap,
  type DesiredState,
  type ManifestInput,
  type UpdateReport,
} from '@edgeloop/protocol';
import { KeyValue, openAgentDb } from '../store/agent-db.js';
import { ModelState } from '../store/model-state.js';
import { ActiveModels } from '../runtime/active-models.js';
import { UpdateManager } from './update-manager.js';
import { TrustStore } from './trust-store.js';
import type { UpdateOptionsInput } from './update-options.js';

/** The device trusts testRoot; testRoot's keyset (in every desired state) authorises testKey to sign manifests. */
export const testRoot = generateKeyPair();
export const testKey = generateKeyPair();
export const testKeyset = signKeyset(buildKeyset(1, [testKey.publicKey]), testRoot);

export interface ServedFile {
  bytes: Uint8Array;
  /** Bytes appended beyond the artifact (endless-data attack). */
  extra?: number;
  /** false = ignore Range and always answer 200 with the whole file. */
  ranges?: boolean;
  /** Called per range request (n = 1, 2, …); returning a chunk-aligned offset flips a byte there. */
  corruptAt?: (start: number, n: number) => number | undefined;
  /** Called per range request; returning k sends only k body bytes, then cuts the connection. */
  cutAfter?: (start: number, n: number) => number | undefined;
}

export interface ArtifactServer {
  url: string;
  /** Every request: file name and the Range header it carried. */
  hits: Array<{ name: string; range: string | undefined }>;
  /** Start offsets of the Range requests for `name`. */
  starts(name: string): number[];
  server: Server;
}

/** A real HTTP artifact server (no content-length: chunked encoding, so extra bytes can be sent). */
export async function artifactServer(files: Record<string, ServedFile>): Promise<ArtifactServer> {
  const hits: ArtifactServer['hits'] = [];
  const server = createServer((req, res) => serve(files, hits, req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    hits,
    starts: (name) =>
      hits.filter((h) => h.name === name && h.range).map((h) => Number(/^bytes=(\d+)-/.exec(h.range!)![1])),
    server,
  };
}

function serve(
  files: Record<string, ServedFile>,
  hits: ArtifactServer['hits'],
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const name = (req.url ?? '').slice(1);
  const range = req.headers.range;
  hits.push({ name, range });
  const f = files[name];
  if (!f) return void res.writeHead(404).end();
  const m = range && f.ranges !== false ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
  if (!m) {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.write(f.bytes);
    if (f.extra) res.write(Buffer.alloc(f.extra, 7));
    return void res.end();
  }
  const start = Number(m[1]);
  const end = Math.min(Number(m[2]), f.bytes.length - 1);
  const n = hits.filter((h) => h.name === name && h.range).length;
  const body = Buffer.from(f.bytes.subarray(start, end + 1));
  const flip = f.corruptAt?.(start, n);
  if (flip !== undefined && flip >= start && flip <= end) body[flip - start] = body[flip - start]! ^ 0xff;
  res.writeHead(206, {
    'content-type': 'application/octet-stream',
    'content-range': `bytes ${start}-${end}/${f.bytes.length}`,
  });
  const cut = f.cutAfter?.(start, n);
  if (cut !== undefined)
    return void res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
  res.write(body);
  if (f.extra) res.write(Buffer.alloc(f.extra, 7));
  res.end();
}

/** A manifest for the reference model's tensor spec; `chunkSize` adds per-chunk hashes. */
export function manifest(
  version: number,
  bytes: Uint8Array,
  overrides: Partial<ManifestInput> & { chunkSize?: number } = {},
): ManifestInput {
  const { chunkSize, ...rest } = overrides;
  return {
    schema: MANIFEST_SCHEMA,
    name: 'distance',
    version,
    artifact: {
      sha256: sha256Hex(bytes),
      size: bytes.length,
      mediaType: 'application/onnx',
      ...(chunkSize ? { chunkSize, chunks: chunkHashes(bytes, chunkSize) } : {}),
    },
    created: new Date(Date.now() - 60_000).toISOString(),
    expires: new Date(Date.now() + 86_400_000).toISOString(),
    targets: { arch: ['x64', 'arm64', 'arm'] },
    inputs: [{ name: 'image', dtype: 'float32', shape: ['batch', 3, 48, 64] }],
    outputs: [{ name: 'distance', dtype: 'float32', shape: ['batch', 1] }],
    ...rest,
  };
}

export const desired = (entries: Array<{ m: ManifestInput; url: string }>): DesiredState => ({
  v: 2,
  deviceId: 'pi-1',
  counter: 1,
  issuedAt: Date.now(),
  keys: testKeyset,
  models: entries.map((e) => ({ manifest: signManifest(e.m, testKey), artifactUrl: e.url })),
});

export type Report = Omit<UpdateReport, 'v' | 'ts' | 'session' | 'reportSeq'>;

/** An UpdateManager on a fresh (or, with `dir`, an existing) data directory, closed after the test. */
export function harness(
  t: { after: (fn: () => void | Promise<void>) => void },
  dir = mkdtempSync(join(tmpdir(), 'edgeloop-updates-')),
  options: UpdateOptionsInput = {},
) {
  const db = openAgentDb(join(dir, 'agent.db'));
  const models = new ActiveModels();
  const reports: Report[] = [];
  const state = new ModelState(db);
  const manager = new UpdateManager({
    modelsDir: join(dir, 'models'),
    trust: new TrustStore(trustedKeyMap([testRoot.publicKey]), new KeyValue(db), pino({ level: 'silent' })),
    arch: 'x64',
    hardware: 'raspberrypi4',
    runner: { intraOpThreads: 1 },
    models,
    state,
    report: (r) => reports.push(r),
    log: pino({ level: 'silent' }),
    options,
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await manager.close();
    await models.closeAll();
    db.close();
  };
  t.after(close);
  return { dir, manager, models, reports, state, close };
}
