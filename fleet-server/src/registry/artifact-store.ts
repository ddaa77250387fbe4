/**
 * @module registry/artifact-store
 * The folder BlobStore (store/blobs/blob-store.ts): model artifacts and kept samples on disk,
 * content-addressed by sha256, so the same bytes are stored once however many versions or names
 * point at them, and a file's name says what its content must hash to. The folder may be the
 * data directory or one every server of a cluster mounts (docs/cluster.md).
 *
 * Large uploads are not buffered while they arrive: they are written to a staging file in the
 * store's own directory (hashed as they arrive), then renamed into place, which is atomic
 * because staging and store share a file system; a server reading the folder sees a complete
 * file or none. A crash leaves at most a staging file, which the next start removes (only
 * staging files older than a day in a shared folder: another server may be writing one now).
 */
import { randomUUID } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { sha256Hex } from '@edgeloop/protocol';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '@edgeloop/protocol/state-dir';
import {
  SHA256_HEX,
  StagingFile,
  type BlobStore,
  type StagedArtifact,
  type StoredBlob,
} from '../store/blobs/blob-store.js';

export { StagingFile, type StagedArtifact } from '../store/blobs/blob-store.js';

const STAGING_PREFIX = '.staging-';
const DAY_MS = 86_400_000;

export class ArtifactStore implements BlobStore {
  /** `shared`: other servers use the folder too, so only old staging files are left-overs. */
  constructor(
    private readonly dir: string,
    opts: { shared?: boolean } = {},
  ) {
    ensurePrivateDir(dir);
    const cutoff = opts.shared ? Date.now() - DAY_MS : Infinity;
    for (const name of readdirSync(dir)) {
      if (!name.startsWith(STAGING_PREFIX)) continue;
      const path = join(dir, name);
      try {
        if (statSync(path).mtimeMs < cutoff) rmSync(path, { force: true });
      } catch {
        // Removed meanwhile by another server.
      }
    }
  }

  async put(bytes: Uint8Array): Promise<StoredBlob> {
    const sha256 = sha256Hex(bytes);
    const path = this.path(sha256);
    if (!existsSync(path)) {
      const tmp = join(this.dir, `${STAGING_PREFIX}${randomUUID()}`);
      writeFileSync(tmp, bytes, { mode: PRIVATE_FILE_MODE });
      renameSync(tmp, path);
    }
    return { sha256, size: bytes.length };
  }

  stage(): Promise<StagingFile> {
    return StagingFile.create(join(this.dir, `${STAGING_PREFIX}${randomUUID()}`));
  }

  read(staged: StagedArtifact): Buffer {
    return readFileSync(staged.path);
  }

  /** Moves a staged upload into the store under its hash (atomic rename; dropped if already stored). */
  async adopt(staged: StagedArtifact): Promise<StoredBlob> {
    const path = this.path(staged.sha256);
    if (existsSync(path)) rmSync(staged.path, { force: true });
    else renameSync(staged.path, path);
    return { sha256: staged.sha256, size: staged.size };
  }

  async size(sha256: string): Promise<number | undefined> {
    if (!SHA256_HEX.test(sha256)) return undefined;
    try {
      return statSync(this.path(sha256)).size;
    } catch {
      return undefined;
    }
  }

  async stream(sha256: string, start = 0, end?: number): Promise<Readable | undefined> {
    if ((await this.size(sha256)) === undefined) return undefined;
    return createReadStream(this.path(sha256), { start, ...(end === undefined ? {} : { end }) });
  }

  async readRange(sha256: string, offset: number, length: number): Promise<Buffer> {
    if (!SHA256_HEX.test(sha256)) throw new Error(`"${sha256}" is not a sha256`);
    const fh = await open(this.path(sha256), 'r');
    try {
      const bytes = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(bytes, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got !== length) throw new Error(`blob ${sha256} has fewer than ${offset + length} bytes`);
      return bytes;
    } finally {
      await fh.close();
    }
  }

  private path(sha256: string): string {
    return join(this.dir, sha256);
  }
}
