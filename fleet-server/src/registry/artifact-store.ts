/**
 * @module registry/artifact-store
 * Model artifacts on disk, content-addressed by sha256: the same bytes are stored once however
 * many versions or names point at them, and a file's name says what its content must hash to.
 *
 * Large uploads are not buffered while they arrive: they are written to a staging file in the
 * store's own directory (hashed as they arrive), then renamed into place, which is atomic
 * because staging and store share a file system. A crash leaves at most a staging file, which
 * the next start removes; never a half-written artifact under a hash name.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
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
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReadStream } from 'node:fs';
import { sha256Hex } from '@edgeloop/protocol';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '@edgeloop/protocol/state-dir';

const STAGING_PREFIX = '.staging-';

/** A complete upload in the staging area, not yet part of the store. */
export interface StagedArtifact {
  path: string;
  sha256: string;
  size: number;
}

/** One upload being written: chunks go to disk and into the hash as they arrive. */
export class StagingFile {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
  ) {}

  static async create(path: string): Promise<StagingFile> {
    return new StagingFile(path, await open(path, 'wx', PRIVATE_FILE_MODE));
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    this.size += chunk.byteLength;
    let offset = 0;
    while (offset < chunk.byteLength) offset += (await this.file.write(chunk, offset)).bytesWritten;
  }

  async finish(): Promise<StagedArtifact> {
    await this.file.sync();
    await this.close();
    return { path: this.path, sha256: this.hash.digest('hex'), size: this.size };
  }

  /** Drops the upload (refused, cut off, or already adopted: then there is nothing left to remove). */
  async discard(): Promise<void> {
    await this.close();
    rmSync(this.path, { force: true });
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.close();
  }
}

export class ArtifactStore {
  constructor(private readonly dir: string) {
    ensurePrivateDir(dir);
    // Left behind by a crash mid-upload; nothing refers to them.
    for (const name of readdirSync(dir)) if (name.startsWith(STAGING_PREFIX)) rmSync(join(dir, name), { force: true });
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

  /** A new staging file for an upload (api/model-upload.ts). */
  stage(): Promise<StagingFile> {
    return StagingFile.create(join(this.dir, `${STAGING_PREFIX}${randomUUID()}`));
  }

  /** The staged bytes, for checks that need the whole file (ONNX inspection, chunk hashes). */
  read(staged: StagedArtifact): Buffer {
    return readFileSync(staged.path);
  }

  /** Moves a staged upload into the store under its hash (atomic rename; dropped if already stored). */
  adopt(staged: StagedArtifact): { sha256: string; size: number } {
    const path = this.path(staged.sha256);
    if (existsSync(path)) rmSync(staged.path, { force: true });
    else renameSync(staged.path, path);
    return { sha256: staged.sha256, size: staged.size };
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
