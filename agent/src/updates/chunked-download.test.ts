import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReferenceModel, SYNTHETIC_MODEL_OPTIONS } from '@edgeloop/models';
import { manifestSchema } from '@edgeloop/protocol';
import { downloadArtifactChunked, type ChunkedDownloadOptions } from './chunked-download.js';
import { DownloadError } from './download.js';
import { artifactServer, desired, harness, manifest, type ServedFile } from './test-support.js';

// The chunk arithmetic below is written for this model's size: 40116 bytes.
const v1 = Buffer.from(buildReferenceModel(SYNTHETIC_MODEL_OPTIONS.v1));
const CHUNK = 4096; // hashed chunk: 10 chunks, the last one shorter
const REQUEST = 4 * CHUNK; // each Range request carries 4 chunks
const artifact = manifestSchema.parse(manifest(1, v1, { chunkSize: CHUNK })).artifact;
const plain = manifestSchema.parse(manifest(1, v1)).artifact;
const opts: ChunkedDownloadOptions = {
  chunkSize: REQUEST,
  maxBytesPerSecond: 0,
  chunkRetries: 3,
  networkRetries: 3,
  requestTimeoutMs: 5000,
};

async function setup(t: { after: (fn: () => void) => void }, file: ServedFile) {
  const files = await artifactServer({ a: file });
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-chunks-'));
  t.after(() => {
    files.server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { files, url: `${files.url}/a`, dest: join(dir, 'model.onnx') };
}

const rejection = (code: string) => (err: unknown) => err instanceof DownloadError && err.code === code;

test('an artifact arrives in Range requests of whole chunks and matches byte for byte', async (t) => {
  const { files, url, dest } = await setup(t, { bytes: v1 });
  const progress: number[] = [];
  const outcome = await downloadArtifactChunked(url, artifact, dest, {
    ...opts,
    onProgress: (p) => progress.push(p.received),
  });
  assert.deepEqual(outcome, { mode: 'ranges', resumedFrom: 0, requests: 3 });
  assert.deepEqual(
    files.hits.map((h) => h.range),
    ['bytes=0-16383', 'bytes=16384-32767', 'bytes=32768-40115'],
  );
  assert.deepEqual(readFileSync(dest), v1);
  assert.deepEqual(progress, [0, 16384, 32768, 40116]);
  assert.equal(existsSync(`${dest}.partial`) || existsSync(`${dest}.partial.json`), false, 'no leftovers');
});

test('a server without Range support gets one streaming download (and still no byte beyond the signed length)', async (t) => {
  const ok = await setup(t, { bytes: v1, ranges: false });
  assert.equal((await downloadArtifactChunked(ok.url, artifact, ok.dest, opts)).mode, 'full');
  assert.deepEqual(readFileSync(ok.dest), v1);
  assert.equal(ok.files.hits.length, 1, 'the 200 answer to the first range request is used, not fetched again');

  const endless = await setup(t, { bytes: v1, ranges: false, extra: 1 });
  await assert.rejects(downloadArtifactChunked(endless.url, artifact, endless.dest, opts), rejection('too-long'));
  assert.equal(existsSync(`${endless.dest}.partial`), false);
});

test('a chunk corrupted once is discarded and fetched again', async (t) => {
  // The first answer covering chunk 5 carries a flipped byte in it.
  const { files, url, dest } = await setup(t, {
    bytes: v1,
    corruptAt: (start, n) => (n === 2 ? 5 * CHUNK + 10 : undefined),
  });
  await downloadArtifactChunked(url, artifact, dest, opts);
  assert.deepEqual(readFileSync(dest), v1);
  // Request 2 (chunks 4-7) kept chunk 4 only; the re-fetch starts at chunk 5.
  assert.deepEqual(files.starts('a'), [0, 4 * CHUNK, 5 * CHUNK, 9 * CHUNK]);
});

test('a chunk that is always corrupt rejects the update with chunk-mismatch and keeps the verified prefix', async (t) => {
  const { files, url, dest } = await setup(t, { bytes: v1, corruptAt: () => 6 * CHUNK });
  await assert.rejects(
    downloadArtifactChunked(url, artifact, dest, opts),
    (err: DownloadError) => err.code === 'chunk-mismatch' && /chunk 6 .*3 fetches/.test(err.message),
  );
  assert.deepEqual(files.starts('a'), [0, 4 * CHUNK, 6 * CHUNK, 6 * CHUNK]);
  assert.equal(JSON.parse(readFileSync(`${dest}.partial.json`, 'utf8')).verifiedBytes, 6 * CHUNK);
  assert.equal(existsSync(dest), false);
});

test('a connection cut mid-chunk resumes from the last verified chunk, not from zero', async (t) => {
  // Request 2 (16384-32767) is cut after 6000 bytes: one whole chunk (4096) of it is usable.
  const { files, url, dest } = await setup(t, { bytes: v1, cutAfter: (start, n) => (n === 2 ? 6000 : undefined) });
  const outcome = await downloadArtifactChunked(url, artifact, dest, opts);
  assert.deepEqual(readFileSync(dest), v1);
  assert.deepEqual(files.starts('a'), [0, 4 * CHUNK, 5 * CHUNK, 9 * CHUNK]);
  assert.equal(outcome.requests, 4);
});

test('after a restart the download continues from the sidecar; bytes written after it are fetched again', async (t) => {
  // First "process": request 2 is cut, later ones deliver nothing, no retries: download-failed, progress kept.
  const first = await setup(t, { bytes: v1, cutAfter: (start, n) => (n === 2 ? 6000 : n > 2 ? 0 : undefined) });
  await assert.rejects(
    downloadArtifactChunked(first.url, artifact, first.dest, { ...opts, networkRetries: 0 }),
    (err: DownloadError) => err.code === 'download-failed' && /resumes from there/.test(err.message),
  );
  assert.equal(JSON.parse(readFileSync(`${first.dest}.partial.json`, 'utf8')).verifiedBytes, 5 * CHUNK);
  // A kill -9 between writing chunk data and the sidecar leaves unvouched bytes behind.
  appendFileSync(`${first.dest}.partial`, Buffer.alloc(1000, 9));

  // Second "process", same destination: resumes at the verified 20480 bytes.
  const second = await setup(t, { bytes: v1 });
  const outcome = await downloadArtifactChunked(second.url, artifact, first.dest, opts);
  assert.equal(outcome.resumedFrom, 5 * CHUNK);
  assert.deepEqual(second.files.starts('a'), [5 * CHUNK, 9 * CHUNK]);
  assert.deepEqual(readFileSync(first.dest), v1);
});

test('without the sidecar, the signed chunk hashes still prove the prefix on disk', async (t) => {
  const first = await setup(t, { bytes: v1, cutAfter: (start, n) => (n === 2 ? 10_000 : n > 2 ? 0 : undefined) });
  await assert.rejects(downloadArtifactChunked(first.url, artifact, first.dest, { ...opts, networkRetries: 0 }));
  rmSync(`${first.dest}.partial.json`);
  const second = await setup(t, { bytes: v1 });
  assert.equal((await downloadArtifactChunked(second.url, artifact, first.dest, opts)).resumedFrom, 6 * CHUNK);
  assert.deepEqual(readFileSync(first.dest), v1);
});

test('manifests without chunk hashes still download in resumable ranges; the whole-file sha256 decides', async (t) => {
  const first = await setup(t, { bytes: v1, cutAfter: (start, n) => (n === 2 ? 6000 : n > 2 ? 0 : undefined) });
  await assert.rejects(downloadArtifactChunked(first.url, plain, first.dest, { ...opts, networkRetries: 0 }));
  const second = await setup(t, {
    bytes: v1,
    corruptAt: (start) => (start === REQUEST + 6000 ? start + 1 : undefined),
  });
  await assert.rejects(
    downloadArtifactChunked(second.url, plain, first.dest, opts),
    (err: DownloadError) => err.code === 'hash-mismatch' && /sha256/.test(err.message),
  );
  assert.deepEqual(second.files.starts('a'), [REQUEST + 6000, 2 * REQUEST + 6000]);
  assert.equal(
    existsSync(`${first.dest}.partial`),
    false,
    'an unverifiable partial is discarded after a hash mismatch',
  );
});

test('a range answer longer than requested, or a file longer than signed, aborts: too-long', async (t) => {
  const extra = await setup(t, { bytes: v1, extra: 100 });
  await assert.rejects(downloadArtifactChunked(extra.url, artifact, extra.dest, opts), rejection('too-long'));
  const longer = await setup(t, { bytes: Buffer.concat([v1, Buffer.alloc(10)]) });
  await assert.rejects(
    downloadArtifactChunked(longer.url, artifact, longer.dest, opts),
    (err: DownloadError) => err.code === 'too-long' && /40126 bytes/.test(err.message),
  );
  const shorter = await setup(t, { bytes: v1.subarray(0, 30_000) });
  await assert.rejects(downloadArtifactChunked(shorter.url, artifact, shorter.dest, opts), rejection('size-mismatch'));
});

test('maxBytesPerSecond caps the download rate', async (t) => {
  const { url, dest } = await setup(t, { bytes: v1 });
  const started = Date.now();
  await downloadArtifactChunked(url, artifact, dest, { ...opts, maxBytesPerSecond: 100_000 });
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 350, `40 KB at 100 KB/s takes ≥ 0.4 s, took ${elapsed} ms`);
});

test('through the update manager: progress is reported, and chunk-mismatch rejects the update', async (t) => {
  const files = await artifactServer({ good: { bytes: v1 }, bad: { bytes: v1, corruptAt: () => 2 * CHUNK } });
  t.after(() => files.server.close());
  const h = harness(t, undefined, { chunkSize: REQUEST });
  await h.manager.apply(desired([{ m: manifest(1, v1, { chunkSize: CHUNK }), url: `${files.url}/bad` }]));
  assert.deepEqual(
    h.reports.map((r) => [r.state, r.code]),
    [
      ['downloading', undefined],
      ['rejected', 'chunk-mismatch'],
    ],
  );
  assert.deepEqual([h.reports[0]!.bytesReceived, h.reports[0]!.bytesTotal], [0, v1.length]);
  assert.equal(h.models.get('distance'), undefined);

  await h.manager.apply(desired([{ m: manifest(1, v1, { chunkSize: CHUNK }), url: `${files.url}/good` }]));
  assert.equal(h.reports.at(-1)?.state, 'active');
  assert.match(h.reports.find((r) => r.state === 'downloading' && r.bytesReceived)?.reason ?? '', /resumed at 8 KiB/);
  assert.deepEqual(
    files.starts('good'),
    [2 * CHUNK, 2 * CHUNK + REQUEST],
    'the good server is asked only for what the bad one did not deliver',
  );
});
