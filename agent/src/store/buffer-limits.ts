/**
 * @module store/buffer-limits
 * Keeps the record buffer bounded: by bytes, by age, and by the free space left on the disk.
 * The declared policy is drop-oldest: the oldest records go first, every drop is counted in a
 * persisted total that the agent reports with its telemetry, and nothing ever blocks or crashes
 * the prediction path. Dropping leaves 10 % headroom so it does not run on every append.
 */
import { statfsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { AgentDb, KeyValue } from './agent-db.js';

export interface BufferLimitOptions {
  /** Bytes the buffer database may use (records dominate). */
  maxBytes: number;
  /** Records older than this are dropped; 0 = no age limit. */
  maxAgeMs: number;
  /** Keep at least this much free space on the filesystem of the data dir. */
  minFreeDiskBytes: number;
}

const HEADROOM = 0.9;

export class BufferLimits {
  private readonly usedStmt;
  private readonly countStmt;
  private readonly dropOldestStmt;
  private readonly dropOlderThanStmt;

  constructor(
    private readonly db: AgentDb,
    private readonly kv: KeyValue,
    private readonly dataDir: string,
    private readonly opts: BufferLimitOptions,
    private readonly log: Logger,
  ) {
    this.usedStmt = db.prepare<[], { used: number }>(
      'SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count()) AS used',
    );
    this.countStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM records');
    this.dropOldestStmt = db.prepare('DELETE FROM records WHERE seq IN (SELECT seq FROM records ORDER BY seq LIMIT ?)');
    // Only the oldest prefix (by seq, the primary key) is looked at, so an age check costs little
    // however large the buffer is; seq order is arrival order, which is nearly ts order.
    this.dropOlderThanStmt = db.prepare(
      'DELETE FROM records WHERE seq IN (SELECT seq FROM records ORDER BY seq LIMIT 5000) AND ts < ?',
    );
  }

  /** Bytes in use by the database's live pages. */
  usedBytes(): number {
    return this.usedStmt.get()!.used * (this.db.pragma('page_size', { simple: true }) as number);
  }

  /** Running total of dropped records since the buffer was created. */
  dropped(): number {
    return Number(this.kv.get('dropped') ?? '0');
  }

  /** Applies every limit; returns how many records were dropped now. */
  enforce(now = Date.now()): number {
    let dropped = 0;
    if (this.opts.maxAgeMs > 0) {
      for (let n = 1; n > 0;) {
        n = this.dropOlderThanStmt.run(now - this.opts.maxAgeMs).changes;
        dropped += n;
      }
    }
    // Deleting rows frees whole pages only when they empty; partly used table and index pages
    // stay, so measure again and repeat (a few rounds converge).
    for (let round = 0; round < 5; round++) {
      const used = this.usedBytes();
      if (used <= this.opts.maxBytes) break;
      const n = this.dropFraction(1 - (this.opts.maxBytes * HEADROOM) / used, 'buffer over its byte cap');
      dropped += n;
      if (n === 0) break;
    }
    if (this.freeDiskBytes() < this.opts.minFreeDiskBytes) dropped += this.dropFraction(0.1, 'disk almost full');
    if (dropped > 0) {
      this.kv.set('dropped', String(this.dropped() + dropped));
      this.log.warn(
        { dropped, total: this.dropped(), usedBytes: this.usedBytes() },
        'buffer limit reached: dropped the oldest records',
      );
    }
    return dropped;
  }

  private dropFraction(fraction: number, why: string): number {
    const count = this.countStmt.get()!.n;
    const n = Math.max(1, Math.ceil(count * Math.min(1, fraction)));
    if (count === 0) return 0;
    this.log.debug({ n, why }, 'dropping oldest records');
    return this.dropOldestStmt.run(n).changes;
  }

  private freeDiskBytes(): number {
    try {
      const s = statfsSync(this.dataDir);
      return s.bavail * s.bsize;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  }
}
