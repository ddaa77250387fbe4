/**
 * @module store/postgres/postgres-blob-store
 * The BlobStore (store/blobs/blob-store.ts) in PostgreSQL, for a cluster without a shared file
 * system: each blob is a row in `blobs` (namespace, sha256, size) and its bytes are `bytea`
 * chunks of CHUNK_BYTES in `blob_chunks`. Chunks, not one value or a large object: a range
 * request reads only the chunks it needs, a write never holds more than one chunk in memory, and
 * rows (unlike large objects) go with a plain pg_dump and are dropped with their blob.
 *
 * A blob is written in one transaction, chunks first and its `blobs` row last, so a reader that
 * finds the row finds every chunk; two servers storing the same bytes at once meet on the
 * primary keys and store them once.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { sha256Hex } from '@edgeloop/protocol';
import { ensurePrivateDir } from '@edgeloop/protocol/state-dir';
import { SHA256_HEX, StagingFile, type BlobStore, type StagedArtifact, type StoredBlob } from '../blobs/blob-store.js';

export const CHUNK_BYTES = 256 * 1024;
/** Chunks fetched per query while streaming (4 MiB). */
const CHUNKS_PER_READ = 16;
const STAGING_PREFIX = '.staging-';

export const BLOB_TABLES_SQL = `
CREATE TABLE blobs (
  namespace text COLLATE "C" NOT NULL,
  sha256 text COLLATE "C" NOT NULL,
  size bigint NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (namespace, sha256)
);
CREATE TABLE blob_chunks (
  namespace text COLLATE "C" NOT NULL,
  sha256 text COLLATE "C" NOT NULL,
  idx integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (namespace, sha256, idx)
);`;

export class PostgresBlobStore implements BlobStore {
  /** `stagingDir`: a local folder for uploads in progress (this server's own; cleared at start). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly namespace: string,
    private readonly stagingDir: string,
  ) {
    ensurePrivateDir(stagingDir);
    for (const name of readdirSync(stagingDir))
      if (name.startsWith(STAGING_PREFIX)) rmSync(join(stagingDir, name), { force: true });
  }

  async put(bytes: Uint8Array): Promise<StoredBlob> {
    const sha256 = sha256Hex(bytes);
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    await this.write(sha256, bytes.length, function* () {
      for (let at = 0; at < buf.length; at += CHUNK_BYTES) yield buf.subarray(at, at + CHUNK_BYTES);
    });
    return { sha256, size: bytes.length };
  }

  stage(): Promise<StagingFile> {
    return StagingFile.create(join(this.stagingDir, `${STAGING_PREFIX}${randomUUID()}`));
  }

  read(staged: StagedArtifact): Buffer {
    return readFileSync(staged.path);
  }

  async adopt(staged: StagedArtifact): Promise<StoredBlob> {
    try {
      // The stream is opened only once it will be read: a stream opened for bytes already stored
      // would meet the file removed below and emit an error nobody listens to.
      await this.write(staged.sha256, staged.size, () => createReadStream(staged.path, { highWaterMark: CHUNK_BYTES }));
    } finally {
      rmSync(staged.path, { force: true });
    }
    return { sha256: staged.sha256, size: staged.size };
  }

  async size(sha256: string): Promise<number | undefined> {
    if (!SHA256_HEX.test(sha256)) return undefined;
    const { rows } = await this.pool.query<{ size: number }>(
      'SELECT size FROM blobs WHERE namespace = $1 AND sha256 = $2',
      [this.namespace, sha256],
    );
    return rows[0]?.size;
  }

  async stream(sha256: string, start = 0, end?: number): Promise<Readable | undefined> {
    const size = await this.size(sha256);
    if (size === undefined) return undefined;
    const last = Math.min(end ?? size - 1, size - 1);
    const read = (at: number, length: number) => this.readRange(sha256, at, length);
    return Readable.from(
      (async function* () {
        for (let at = start; at <= last;) {
          const length = Math.min(last - at + 1, CHUNKS_PER_READ * CHUNK_BYTES - (at % CHUNK_BYTES));
          yield await read(at, length);
          at += length;
        }
      })(),
    );
  }

  async readRange(sha256: string, offset: number, length: number): Promise<Buffer> {
    if (!SHA256_HEX.test(sha256)) throw new Error(`"${sha256}" is not a sha256`);
    const first = Math.floor(offset / CHUNK_BYTES);
    const lastIdx = Math.floor((offset + length - 1) / CHUNK_BYTES);
    const { rows } = await this.pool.query<{ data: Buffer }>(
      'SELECT data FROM blob_chunks WHERE namespace = $1 AND sha256 = $2 AND idx BETWEEN $3 AND $4 ORDER BY idx',
      [this.namespace, sha256, first, lastIdx],
    );
    const joined = Buffer.concat(rows.map((r) => r.data));
    const from = offset - first * CHUNK_BYTES;
    if (rows.length !== lastIdx - first + 1 || joined.length < from + length)
      throw new Error(`blob ${sha256} has fewer than ${offset + length} bytes`);
    return joined.subarray(from, from + length);
  }

  /** Chunks of exactly CHUNK_BYTES (the last may be shorter), whatever sizes the source yields. */
  private async write(
    sha256: string,
    size: number,
    openSource: () => Iterable<Buffer> | AsyncIterable<Buffer | string>,
  ): Promise<void> {
    if ((await this.size(sha256)) !== undefined) return;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      let idx = 0;
      let pending = Buffer.alloc(0);
      const flush = async (chunk: Buffer) => {
        await client.query(
          'INSERT INTO blob_chunks (namespace, sha256, idx, data) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
          [this.namespace, sha256, idx++, chunk],
        );
      };
      for await (const piece of openSource()) {
        pending = pending.length === 0 ? Buffer.from(piece) : Buffer.concat([pending, Buffer.from(piece)]);
        while (pending.length >= CHUNK_BYTES) {
          await flush(pending.subarray(0, CHUNK_BYTES));
          pending = pending.subarray(CHUNK_BYTES);
        }
      }
      if (pending.length > 0 || idx === 0) await flush(pending);
      await client.query(
        'INSERT INTO blobs (namespace, sha256, size, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [this.namespace, sha256, size, Date.now()],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
