/**
 * @module artifact
 * Streaming artifact verification against a manifest: a download is aborted as soon as it
 * exceeds the signed length (endless-data attack), and accepted only if size and sha256 match.
 */
import { createHash, type Hash } from 'node:crypto';
import { fail, ok, type Result } from './errors.js';
import type { Manifest } from './manifest.js';

export type ArtifactRejection = 'too-long' | 'size-mismatch' | 'hash-mismatch';

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
