/**
 * @module artifact
 * Streaming artifact verification against a manifest: a download is aborted as soon as it
 * exceeds the signed length (endless-data attack), and accepted only if size and sha256 match.
 * Per-chunk hashes (manifest `artifact.chunks`) let a downloader check each piece on arrival,
 * re-fetch only a bad piece, and resume after a restart from the last piece it verified.
 */
import { createHash, type Hash } from 'node:crypto';
import { fail, ok, type Result } from './errors.js';
import type { Manifest } from './manifest.js';

export type ArtifactRejection = 'too-long' | 'size-mismatch' | 'hash-mismatch' | 'chunk-mismatch';

export class ArtifactVerifier {
  private readonly hash: Hash = createHash('sha256');
  private received = 0;

  constructor(private readonly expected: Manifest['artifact']) {}

  /** Returns a rejection as soon as more bytes arrive than the manifest signed for. */
  update(chunk: Uint8Array): Result<number, ArtifactRejection> {
    this.received += chunk.length;
    if (this.received > this.expected.size) {
      return fail('too-long', `artifact is longer than the signed ${this.expected.size} bytes; download aborted`);
    }
    this.hash.update(chunk);
    return ok(this.received);
  }

  finish(): Result<string, ArtifactRejection> {
    if (this.received !== this.expected.size) {
      return fail('size-mismatch', `artifact has ${this.received} bytes, manifest says ${this.expected.size}`);
    }
    const digest = this.hash.digest('hex');
    if (digest !== this.expected.sha256) {
      return fail('hash-mismatch', `artifact sha256 ${digest} does not match the signed ${this.expected.sha256}`);
    }
    return ok(digest);
  }
}

export function verifyArtifact(expected: Manifest['artifact'], bytes: Uint8Array): Result<string, ArtifactRejection> {
  const v = new ArtifactVerifier(expected);
  const step = v.update(bytes);
  return step.ok ? v.finish() : step;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Smallest chunk the registry hashes: below this, per-request overhead dominates. */
export const MIN_ARTIFACT_CHUNK_SIZE = 64 * 1024;
/** The registry doubles the chunk size until the artifact needs at most this many chunks. */
export const TARGET_ARTIFACT_CHUNKS = 512;

/**
 * Chunk size for an artifact of `size` bytes, or undefined when it fits one chunk: a single
 * chunk's hash would only repeat the artifact's sha256.
 */
export function chooseChunkSize(size: number): number | undefined {
  let chunkSize = MIN_ARTIFACT_CHUNK_SIZE;
  while (Math.ceil(size / chunkSize) > TARGET_ARTIFACT_CHUNKS) chunkSize *= 2;
  return size > chunkSize ? chunkSize : undefined;
}

/** sha256 of each consecutive `chunkSize` slice of `bytes` (the last one may be shorter). */
export function chunkHashes(bytes: Uint8Array, chunkSize: number): string[] {
  const hashes: string[] = [];
  for (let start = 0; start < bytes.length; start += chunkSize)
    hashes.push(sha256Hex(bytes.subarray(start, start + chunkSize)));
  return hashes;
}

/** Byte range [start, end) of chunk `index`, per the manifest's chunkSize. */
export function chunkBounds(
  artifact: Pick<Manifest['artifact'], 'size'> & { chunkSize: number },
  index: number,
): { start: number; end: number } {
  const start = index * artifact.chunkSize;
  return { start, end: Math.min(start + artifact.chunkSize, artifact.size) };
}

/** Checks one chunk against its signed hash; the manifest must carry chunk hashes. */
export function verifyChunk(
  artifact: Manifest['artifact'],
  index: number,
  bytes: Uint8Array,
): Result<number, 'chunk-mismatch'> {
  const expected = artifact.chunks?.[index];
  if (!expected || artifact.chunkSize === undefined)
    return fail('chunk-mismatch', `the manifest has no hash for chunk ${index}`);
  const { start, end } = chunkBounds({ size: artifact.size, chunkSize: artifact.chunkSize }, index);
  if (bytes.length !== end - start)
    return fail('chunk-mismatch', `chunk ${index} has ${bytes.length} bytes, expected ${end - start}`);
  const digest = sha256Hex(bytes);
  if (digest !== expected) {
    return fail(
      'chunk-mismatch',
      `chunk ${index} (bytes ${start}-${end - 1}) has sha256 ${digest}, the manifest signed ${expected}`,
    );
  }
  return ok(index);
}
