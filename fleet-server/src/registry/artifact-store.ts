/**
 * @module registry/artifact-store
 * Model artifacts on disk, content-addressed by sha256: the same bytes are stored once however
 * many versions or names point at them, and a file's name says what its content must hash to.
 */
import { createReadStream, existsSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { ReadStream } from 'node:fs';
import { sha256Hex } from '@edgeloop/protocol';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '@edgeloop/protocol/state-dir';

export class ArtifactStore {
  constructor(private readonly dir: string) {
    ensurePrivateDir(dir);
  }

  put(bytes: Uint8Array): { sha256: string; size: number } {
    const sha256 = sha256Hex(bytes);
    const path = this.path(sha256);
    if (!existsSync(path)) {
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, bytes, { mode: PRIVATE_FILE_MODE });
      renameSync(tmp, path);
    }
    return { sha256, size: bytes.length };
  }

  open(sha256: string): { size: number; stream: ReadStream } | undefined {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
    const path = this.path(sha256);
    if (!existsSync(path)) return undefined;
    return { size: statSync(path).size, stream: createReadStream(path) };
  }

  path(sha256: string): string {
    return join(this.dir, sha256);
  }
}
