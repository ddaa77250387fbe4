/**
 * @module store/blobs/blob-store
 * Where artifacts and kept samples live: content-addressed blobs (the name is the sha256 of the
 * bytes, so the same bytes are stored once). One interface, two places (docs/cluster.md says
 * which to use when): a folder (registry/artifact-store.ts; the data directory, or a folder every
 * server of a cluster mounts) and PostgreSQL (store/postgres/postgres-blob-store.ts). Both pass
 * the same contract suite (store/blobs/blob-contract.ts).
 *
 * Uploads are staged in a local file whatever the store (hashed as they arrive, checked before
 * anything is stored), then adopted: moved (folder) or copied in (PostgreSQL).
 */
import { createHash, type Hash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { PRIVATE_FILE_MODE } from '@edgeloop/protocol/state-dir';

export interface StoredBlob {
  sha256: string;
  size: number;
}

export interface BlobStore {
  /** Stores the bytes (nothing when they are stored already). */
  put(bytes: Uint8Array): Promise<StoredBlob>;
  /** A new local staging file for an upload (api/model-upload.ts). */
  stage(): Promise<StagingFile>;
  /** The staged bytes, for checks that need the whole file (ONNX inspection, chunk hashes). */
  read(staged: StagedArtifact): Buffer;
  /** Stores a staged upload under its hash and removes the staging file. */
  adopt(staged: StagedArtifact): Promise<StoredBlob>;
  /** The blob's size, or undefined when it is not stored (or the name is not a sha256). */
  size(sha256: string): Promise<number | undefined>;
  /** Bytes `start`..`end` (inclusive; default: all), or undefined when not stored. */
  stream(sha256: string, start?: number, end?: number): Promise<Readable | undefined>;
  /** Exactly `length` bytes from `offset`; throws when the blob is absent or shorter. */
  readRange(sha256: string, offset: number, length: number): Promise<Buffer>;
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** What a blob store holds: model artifacts or kept samples (kept apart: each has its own uses). */
export type BlobNamespace = 'artifacts' | 'samples';

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
