/**
 * @module sampling/sample-store
 * Kept inputs on disk (one file each, fsynced) with their metadata in the agent database, under a
 * byte budget: when it is exceeded the oldest samples are deleted.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SAMPLE_REASONS } from '@edgeloop/protocol';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '@edgeloop/protocol/state-dir';
import type { AgentDb } from '../store/agent-db.js';

export type SampleReason = (typeof SAMPLE_REASONS)[number];

export interface KeptSample {
  id: number;
  seq: number;
  model: string;
  version: number;
  ts: number;
  reason: SampleReason;
  prediction: number | null;
  reference: number | null;
  contentType: string;
  file: string;
  bytes: number;
}

const EXT: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'application/json': 'json',
};

export class SampleStore {
  private readonly keptListeners = new Set<() => void>();

  constructor(
    private readonly db: AgentDb,
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {
    ensurePrivateDir(dir);
  }

  keep(meta: Omit<KeptSample, 'id' | 'file' | 'bytes'>, data: Uint8Array): number {
    const file = `${meta.model}-${meta.seq}.${EXT[meta.contentType] ?? 'bin'}`;
    writeFileSync(join(this.dir, file), data, { flush: true, mode: PRIVATE_FILE_MODE });
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO samples (seq, model, version, ts, reason, prediction, reference, content_type, file, bytes)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          meta.seq,
          meta.model,
          meta.version,
          meta.ts,
          meta.reason,
          meta.prediction,
          meta.reference,
          meta.contentType,
          file,
          data.length,
        ).lastInsertRowid,
    );
    this.enforceBudget();
    for (const l of this.keptListeners) l();
    return id;
  }

  /** Called after every sample kept (the outbox wakes its sample stream). */
  onKept(listener: () => void): () => void {
    this.keptListeners.add(listener);
    return () => this.keptListeners.delete(listener);
  }

  private enforceBudget(): void {
    let total = (this.db.prepare('SELECT coalesce(sum(bytes), 0) AS b FROM samples').get() as { b: number }).b;
    if (total <= this.maxBytes) return;
    const oldest = this.db.prepare('SELECT id, file, bytes FROM samples ORDER BY id').iterate() as Iterable<{
      id: number;
      file: string;
      bytes: number;
    }>;
    const gone: number[] = [];
    for (const s of oldest) {
      if (total <= this.maxBytes) break;
      rmSync(join(this.dir, s.file), { force: true });
      gone.push(s.id);
      total -= s.bytes;
    }
    const del = this.db.prepare('DELETE FROM samples WHERE id = ?');
    this.db.transaction(() => gone.forEach((id) => del.run(id)))();
  }

  next(afterId: number): KeptSample | undefined {
    const r = this.db.prepare('SELECT * FROM samples WHERE id > ? ORDER BY id LIMIT 1').get(afterId) as
      Record<string, unknown> | undefined;
    return r
      ? {
          id: r.id as number,
          seq: r.seq as number,
          model: r.model as string,
          version: r.version as number,
          ts: r.ts as number,
          reason: r.reason as SampleReason,
          prediction: r.prediction as number | null,
          reference: r.reference as number | null,
          contentType: r.content_type as string,
          file: r.file as string,
          bytes: r.bytes as number,
        }
      : undefined;
  }

  read(sample: KeptSample): Promise<Buffer> {
    return readFile(join(this.dir, sample.file));
  }

  /** After the fleet stored them, the local copies go. Returns how many samples went. */
  remove(idFrom: number, idTo = idFrom): number {
    const gone = this.db.prepare('SELECT id, file FROM samples WHERE id BETWEEN ? AND ?').all(idFrom, idTo) as Array<{
      id: number;
      file: string;
    }>;
    for (const r of gone) rmSync(join(this.dir, r.file), { force: true });
    return this.db.prepare('DELETE FROM samples WHERE id BETWEEN ? AND ?').run(idFrom, idTo).changes;
  }

  count(): { samples: number; bytes: number } {
    const r = this.db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM samples').get() as {
      n: number;
      b: number;
    };
    return { samples: r.n, bytes: r.b };
  }
}
