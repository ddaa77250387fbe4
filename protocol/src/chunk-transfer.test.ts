import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blocksOf,
  decodeChunk,
  encodeChunk,
  encodeChunkNotice,
  fetchRequestSchema,
  MAX_CHUNK_BLOCK_BYTES,
  MAX_CHUNK_PAYLOAD_BYTES,
} from './chunk-transfer.js';

const SHA = 'ab'.repeat(32);

test('data chunks and notices round-trip', () => {
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
  const data = decodeChunk(encodeChunk(SHA, 5 * 65536, bytes));
  assert.ok(data.ok && data.value.kind === 'data');
  assert.equal(data.value.sha256, SHA);
  assert.equal(data.value.offset, 5 * 65536);
  assert.deepEqual(new Uint8Array(data.value.bytes), bytes);
  const refused = decodeChunk(encodeChunkNotice('refused', SHA, 0, 'not assigned to this device'));
  assert.ok(refused.ok && refused.value.kind === 'refused');
  assert.equal(refused.value.reason, 'not assigned to this device');
});

test('oversized, truncated and unknown chunk messages are refused with a reason', () => {
  const big = Buffer.concat([encodeChunk(SHA, 0, new Uint8Array(MAX_CHUNK_BLOCK_BYTES)), Buffer.alloc(1)]);
  assert.equal(big.length, MAX_CHUNK_PAYLOAD_BYTES + 1);
  const tooLarge = decodeChunk(big);
  assert.ok(!tooLarge.ok && tooLarge.code === 'too-large');
  assert.throws(() => encodeChunk(SHA, 0, new Uint8Array(MAX_CHUNK_BLOCK_BYTES + 1)));
  for (const bad of [
    Buffer.alloc(10),
    Buffer.from('{"json":true}'),
    Buffer.concat([Buffer.from([0xec, 9]), Buffer.alloc(40)]),
    encodeChunk(SHA, 0, new Uint8Array(1)).subarray(0, 42),
  ]) {
    const res = decodeChunk(bad);
    assert.ok(!res.ok && res.code === 'malformed' && res.reason.length > 0);
  }
});

test('fetch requests are bounded; blocks cover the range exactly', () => {
  assert.ok(fetchRequestSchema.safeParse({ v: 1, sha256: SHA, offset: 0, length: 65536 }).success);
  assert.ok(!fetchRequestSchema.safeParse({ v: 1, sha256: SHA, offset: 0, length: 64 * 1024 * 1024 }).success);
  assert.ok(!fetchRequestSchema.safeParse({ v: 1, sha256: 'x', offset: 0, length: 1 }).success);
  assert.deepEqual(blocksOf(100, 65536 * 2 + 5), [
    { offset: 100, length: 65536 },
    { offset: 65636, length: 65536 },
    { offset: 131172, length: 5 },
  ]);
});
