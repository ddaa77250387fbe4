import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseChunkSize,
  chunkBounds,
  chunkHashes,
  MIN_ARTIFACT_CHUNK_SIZE,
  sha256Hex,
  TARGET_ARTIFACT_CHUNKS,
  verifyChunk,
} from './artifact.js';
import type { Manifest } from './manifest.js';

const bytes = new Uint8Array(10_000).map((_, i) => (i * 31) % 251);

function artifact(chunkSize: number): Manifest['artifact'] {
  return {
    sha256: sha256Hex(bytes),
    size: bytes.length,
    mediaType: 'application/onnx',
    chunkSize,
    chunks: chunkHashes(bytes, chunkSize),
  };
}

test('chunk hashes cover the artifact in order; the last chunk may be shorter', () => {
  const a = artifact(4096);
  assert.equal(a.chunks!.length, 3);
  assert.deepEqual(chunkBounds({ size: a.size, chunkSize: 4096 }, 2), { start: 8192, end: 10_000 });
  assert.equal(a.chunks![2], sha256Hex(bytes.subarray(8192)));
  for (let i = 0; i < 3; i++) {
    const { start, end } = chunkBounds({ size: a.size, chunkSize: 4096 }, i);
    assert.ok(verifyChunk(a, i, bytes.subarray(start, end)).ok);
  }
});

test('a chunk with one flipped byte, the wrong length or no signed hash is a chunk-mismatch naming the chunk', () => {
  const a = artifact(4096);
  const flipped = bytes.slice(4096, 8192);
  flipped[7] = flipped[7]! ^ 1;
  const r = verifyChunk(a, 1, flipped);
  assert.equal(!r.ok && r.code, 'chunk-mismatch');
  assert.match(!r.ok ? r.reason : '', /chunk 1 \(bytes 4096-8191\) has sha256 [0-9a-f]{64}, the manifest signed/);
  assert.match(
    ((x) => (!x.ok ? x.reason : ''))(verifyChunk(a, 2, bytes.subarray(8192, 9000))),
    /808 bytes, expected 1808/,
  );
  assert.equal(verifyChunk(a, 3, bytes.subarray(0, 1)).ok, false);
  assert.equal(verifyChunk({ ...a, chunks: undefined, chunkSize: undefined }, 0, bytes.subarray(0, 4096)).ok, false);
});

test('the registry chunk size: none for one chunk, 64 KiB upwards, never more than the target count', () => {
  assert.equal(chooseChunkSize(40_000), undefined);
  assert.equal(chooseChunkSize(MIN_ARTIFACT_CHUNK_SIZE), undefined);
  assert.equal(chooseChunkSize(MIN_ARTIFACT_CHUNK_SIZE + 1), MIN_ARTIFACT_CHUNK_SIZE);
  assert.equal(chooseChunkSize(5_000_000), MIN_ARTIFACT_CHUNK_SIZE);
  const huge = 512 * 1024 * 1024;
  const size = chooseChunkSize(huge)!;
  assert.ok(Math.ceil(huge / size) <= TARGET_ARTIFACT_CHUNKS);
  assert.equal(size, 1024 * 1024);
});
