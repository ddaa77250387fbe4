import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHUNK_BLOCK_BYTES,
  encodeChunk,
  encodeChunkNotice,
  MAX_CHUNK_BLOCK_BYTES,
  sha256Hex,
  type FetchRequest,
} from '@edgeloop/protocol';
import { MqttChunkClient } from './mqtt-chunk-source.js';
import { DownloadError } from './download.js';
import { Throttle } from './range-fetch.js';

const bytes = Uint8Array.from({ length: CHUNK_BLOCK_BYTES * 3 - 100 }, (_, i) => (i * 31) % 256);
const artifact = { sha256: sha256Hex(bytes), size: bytes.length, mediaType: 'application/onnx' as const };
const opts = { requestTimeoutMs: 5000, throttle: new Throttle(0) };
const block = (offset: number, length = Math.min(CHUNK_BLOCK_BYTES, bytes.length - offset)) =>
  encodeChunk(artifact.sha256, offset, bytes.subarray(offset, offset + length));

function client(retryMs = 60_000) {
  const sent: FetchRequest[] = [];
  const c = new MqttChunkClient(async (req) => void sent.push(req), undefined, retryMs);
  return { c, sent };
}

test('a range arrives as blocks in any order; foreign, oversized, malformed and wrong-length chunks are dropped', async () => {
  const { c, sent } = client();
  const answer = c.fetch(artifact, 0, bytes.length - 1, opts);
  assert.deepEqual(sent, [{ v: 1, sha256: artifact.sha256, offset: 0, length: bytes.length }]);
  c.handle(Buffer.concat([block(0), Buffer.alloc(MAX_CHUNK_BLOCK_BYTES)])); // oversized message
  c.handle(Buffer.from('{"not":"a chunk"}'));
  c.handle(encodeChunk('0'.repeat(64), 0, bytes.subarray(0, 10))); // another artifact: nobody waits for it
  c.handle(encodeChunk(artifact.sha256, 0, bytes.subarray(0, 10))); // wrong length for block 0
  c.handle(encodeChunk(artifact.sha256, 5, bytes.subarray(5, 5 + CHUNK_BLOCK_BYTES))); // not a block boundary
  c.handle(block(2 * CHUNK_BLOCK_BYTES));
  c.handle(block(0));
  c.handle(block(0)); // duplicate
  c.handle(block(CHUNK_BLOCK_BYTES));
  const got = await answer;
  assert.ok(got.kind === 'range' && got.complete);
  assert.deepEqual(new Uint8Array(got.bytes), bytes);
  assert.equal(c.stats.rejected, 5);
});

test('missing blocks are re-requested, alone, after a quiet spell and after a reconnect', async () => {
  const { c, sent } = client(150);
  c.setConnected(true);
  const answer = c.fetch(artifact, 0, bytes.length - 1, opts);
  c.handle(block(0));
  c.handle(block(2 * CHUNK_BLOCK_BYTES));
  await new Promise((r) => setTimeout(r, 800));
  assert.ok(sent.length >= 2);
  assert.deepEqual(sent[1], { v: 1, sha256: artifact.sha256, offset: CHUNK_BLOCK_BYTES, length: CHUNK_BLOCK_BYTES });
  const before = sent.length;
  c.setConnected(false);
  c.setConnected(true);
  assert.deepEqual(sent[before], {
    v: 1,
    sha256: artifact.sha256,
    offset: CHUNK_BLOCK_BYTES,
    length: CHUNK_BLOCK_BYTES,
  });
  c.handle(block(CHUNK_BLOCK_BYTES));
  const got = await answer;
  assert.ok(got.kind === 'range' && got.complete);
});

test('a refusal ends the download with its reason; a range beyond the signed size is never asked for', async () => {
  const { c } = client();
  const answer = c.fetch(artifact, 0, 999, opts);
  c.handle(encodeChunkNotice('refused', artifact.sha256, 0, 'not assigned to this device'));
  await assert.rejects(answer, (err: Error) => err instanceof DownloadError && /not assigned/.test(err.message));
  await assert.rejects(
    c.fetch(artifact, 0, bytes.length, opts),
    (err: Error) => err instanceof DownloadError && err.code === 'too-long',
  );
});

test('with nothing arriving, the range gives up after requestTimeoutMs with what it has', async () => {
  const { c } = client(50);
  const keepAlive = setTimeout(() => undefined, 5000); // the range's timer is unref'd, as befits a background download
  const answer = c.fetch(artifact, 0, bytes.length - 1, { ...opts, requestTimeoutMs: 300 });
  c.handle(block(0));
  const got = await answer;
  clearTimeout(keepAlive);
  assert.ok(got.kind === 'range' && !got.complete && got.bytes.length === CHUNK_BLOCK_BYTES);
});

test('transport auto: HTTP while it answers; an unreachable artifact URL switches the download to MQTT', async () => {
  const { TransientError } = await import('./range-fetch.js');
  const { autoSource } = await import('./mqtt-chunk-source.js');
  const calls: string[] = [];
  const answer = { kind: 'range' as const, bytes: new Uint8Array(1), complete: true };
  const mqttSource = { label: 'mqtt', fetch: async () => (calls.push('mqtt'), answer) };
  const down = {
    label: 'http://down',
    fetch: async () => {
      calls.push('http');
      throw new TransientError('connect ECONNREFUSED');
    },
  };
  const auto = autoSource(down, mqttSource);
  await auto.fetch(artifact, 0, 0, opts);
  await auto.fetch(artifact, 1, 1, opts);
  assert.deepEqual(calls, ['http', 'mqtt', 'mqtt'], 'switched once, for good');
  assert.equal(auto.label, 'mqtt');

  // Once HTTP has worked, a later network error is retried over HTTP (the downloader backs off), not switched.
  let n = 0;
  const flaky = {
    label: 'http://flaky',
    fetch: async () => {
      if (n++ === 0) return answer;
      throw new TransientError('reset');
    },
  };
  const auto2 = autoSource(flaky, mqttSource);
  await auto2.fetch(artifact, 0, 0, opts);
  await assert.rejects(auto2.fetch(artifact, 1, 1, opts), TransientError);
});
