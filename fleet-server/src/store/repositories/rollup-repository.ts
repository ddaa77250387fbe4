/**
 * @module store/repositories/rollup-repository
 * The `rollups` table: append-only deltas per (model, version, role, scope, window), each body
 * the msgpack of protocol's rollupToWire (about half the bytes of its JSON). Reads merge a key's
 * rows. Compaction takes a key's rows with DELETE … RETURNING and inserts their merge: on
 * PostgreSQL a second compactor's DELETE waits for the first and then finds the rows gone, so a
 * delta is never merged twice, and ingest (which only inserts) never waits for either.
 */
import { Packr } from 'msgpackr';
import {
  DOWNSAMPLE_STEPS,
  emptyRollup,
  mergeRollup,
  rollupFromWire,
  rollupToWire,
  SCOPE_KINDS,
  windowStart,
  type Rollup,
  type RollupWire,
  type ScopeKey,
  type ScopeKind,
} from '@edgeloop/protocol';
import type { SelectQueryBuilder } from 'kysely';
import type {
  RollupCompaction,
  RollupDelta,
  RollupKey,
  RollupQuery,
  RollupRepository,
  RollupWindow,
} from '../rollup-store-types.js';
import type { Database } from '../schema.js';
import { count, type RepositoryContext } from './context.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export function encodeRollup(r: Rollup): Uint8Array {
  return packr.pack(rollupToWire(r));
}

export function decodeRollup(body: Uint8Array): Rollup {
  return rollupFromWire(packr.unpack(body) as RollupWire);
}

/** A delta as a row of the table (the writers' fast paths insert these themselves). */
export interface RollupRow {
  model: string;
  version: number;
  role: string;
  scope: string;
  window_start: number;
  window_ms: number;
  body: Uint8Array;
}

export function rollupRow(d: RollupDelta): RollupRow {
  return {
    model: d.model,
    version: d.version,
    role: d.role,
    scope: d.scope,
    window_start: d.windowStart,
    window_ms: d.windowMs,
    body: encodeRollup(d.rollup),
  };
}

/** Rows per INSERT: 7 parameters each stays far below both databases' limits. */
const INSERT_CHUNK = 500;
/** Keys compacted per pass and per transaction, so no pass holds locks for long. */
const COMPACT_KEYS = 200;
const COMPACT_PASSES = 50;

const keyOf = (k: Pick<RollupKey, 'scope' | 'windowStart' | 'windowMs'>) =>
  `${k.scope}\u0000${k.windowStart}\u0000${k.windowMs}`;

function scopeCondition(kind: ScopeKind): { op: '=' | 'like'; value: string } {
  return kind === 'fleet' ? { op: '=', value: 'fleet' } : { op: 'like', value: `${kind}:%` };
}

export class KyselyRollupRepository implements RollupRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async add(deltas: readonly RollupDelta[]): Promise<void> {
    if (deltas.length === 0) return;
    await this.insertRows(deltas.map(rollupRow));
  }

  private insertRows(rows: readonly RollupRow[], compacted = 0): Promise<void> {
    return this.ctx.atomic(async () => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK)
        await this.ctx
          .db()
          .insertInto('rollups')
          .values(rows.slice(i, i + INSERT_CHUNK).map((r) => ({ ...r, compacted })))
          .execute();
    });
  }

  private select(q: RollupQuery) {
    let query: SelectQueryBuilder<
      Database,
      'rollups',
      { scope: string; window_start: number; window_ms: number; body: Uint8Array }
    > = this.ctx
      .db()
      .selectFrom('rollups')
      .select(['scope', 'window_start', 'window_ms', 'body'])
      .where('model', '=', q.model)
      .where('version', '=', q.version)
      .where('role', '=', q.role);
    if (q.scopes !== undefined) {
      if (q.scopes.length === 0) return undefined;
      query = query.where('scope', 'in', [...q.scopes]);
    }
    if (q.scopePrefix !== undefined)
      query =
        q.scopePrefix === 'fleet'
          ? query.where('scope', '=', 'fleet')
          : query.where('scope', 'like', `${q.scopePrefix}%`);
    if (q.to !== undefined) query = query.where('window_start', '<', q.to);
    if (q.from !== undefined) {
      const from = q.from;
      query = query.where((eb) => eb(eb('window_start', '+', eb.ref('window_ms')), '>', from));
    }
    return query;
  }

  async windows(q: RollupQuery): Promise<RollupWindow[]> {
    const query = this.select(q);
    if (!query) return [];
    const rows = await query.orderBy('scope').orderBy('window_start').orderBy('window_ms').execute();
    const out = new Map<string, RollupWindow>();
    for (const r of rows) {
      const w = { scope: r.scope as ScopeKey, windowStart: Number(r.window_start), windowMs: Number(r.window_ms) };
      const k = keyOf(w);
      const have = out.get(k);
      if (have) mergeRollup(have.rollup, decodeRollup(r.body));
      else out.set(k, { ...w, rollup: decodeRollup(r.body) });
    }
    return [...out.values()];
  }

  async sum(q: RollupQuery): Promise<Rollup> {
    const query = this.select(q);
    const total = emptyRollup();
    if (!query) return total;
    for (const r of await query.execute()) mergeRollup(total, decodeRollup(r.body));
    return total;
  }

  async sumPerScope(q: RollupQuery): Promise<Map<ScopeKey, Rollup>> {
    const query = this.select(q);
    const out = new Map<ScopeKey, Rollup>();
    if (!query) return out;
    for (const r of await query.orderBy('scope').execute()) {
      const scope = r.scope as ScopeKey;
      const have = out.get(scope);
      if (have) mergeRollup(have, decodeRollup(r.body));
      else out.set(scope, decodeRollup(r.body));
    }
    return out;
  }

  async compact(now: number): Promise<RollupCompaction> {
    let windowsDownsampled = 0;
    for (const kind of SCOPE_KINDS) {
      // Oldest step first: a window past the last age goes straight to the longest length.
      const steps = [...DOWNSAMPLE_STEPS[kind]].sort((a, b) => b.olderThanMs - a.olderThanMs);
      for (const step of steps)
        windowsDownsampled += await this.downsample(kind, step.windowMs, now - step.olderThanMs);
    }
    let rowsMerged = 0;
    for (let pass = 0; pass < COMPACT_PASSES; pass++) {
      const keys = await this.ctx
        .db()
        .selectFrom('rollups')
        .select(['model', 'version', 'role', 'scope', 'window_start', 'window_ms'])
        .where('compacted', '=', 0)
        .groupBy(['model', 'version', 'role', 'scope', 'window_start', 'window_ms'])
        .limit(COMPACT_KEYS)
        .execute();
      if (keys.length === 0) break;
      rowsMerged += await this.ctx.atomic(async () => {
        let merged = 0;
        for (const k of keys) {
          const taken = await this.takeKey(k);
          if (taken.length === 0) continue;
          const total = emptyRollup();
          for (const body of taken) mergeRollup(total, decodeRollup(body));
          await this.insertRows([{ ...k, body: encodeRollup(total) }], 1);
          merged += taken.length - 1;
        }
        return merged;
      });
      if (keys.length < COMPACT_KEYS) break;
    }
    return { rowsMerged, windowsDownsampled };
  }

  private async takeKey(k: Omit<RollupRow, 'body'>): Promise<Uint8Array[]> {
    const rows = await this.ctx
      .db()
      .deleteFrom('rollups')
      .where('model', '=', k.model)
      .where('version', '=', k.version)
      .where('role', '=', k.role)
      .where('scope', '=', k.scope)
      .where('window_start', '=', k.window_start)
      .where('window_ms', '=', k.window_ms)
      .returning('body')
      .execute();
    return rows.map((r) => r.body);
  }

  /**
   * Moves windows of `kind` shorter than `windowMs` whose longer window ended before `cutoff`
   * into that window: each target gets one new (uncompacted) row, merged with the rest later.
   */
  private async downsample(kind: ScopeKind, windowMs: number, cutoff: number): Promise<number> {
    const limit = windowStart(cutoff, windowMs);
    const scope = scopeCondition(kind);
    let moved = 0;
    for (let pass = 0; pass < COMPACT_PASSES; pass++) {
      const keys = await this.ctx
        .db()
        .selectFrom('rollups')
        .select(['model', 'version', 'role', 'scope', 'window_start', 'window_ms'])
        .where('scope', scope.op, scope.value)
        .where('window_ms', '<', windowMs)
        .where('window_start', '<', limit)
        .groupBy(['model', 'version', 'role', 'scope', 'window_start', 'window_ms'])
        .limit(COMPACT_KEYS)
        .execute();
      if (keys.length === 0) break;
      await this.ctx.atomic(async () => {
        const targets = new Map<string, { key: Omit<RollupRow, 'body'>; rollup: Rollup }>();
        for (const k of keys) {
          const taken = await this.takeKey(k);
          if (taken.length === 0) continue;
          const start = windowStart(Number(k.window_start), windowMs);
          const id = `${k.model}\u0000${k.version}\u0000${k.role}\u0000${k.scope}\u0000${start}`;
          let t = targets.get(id);
          if (!t) {
            t = { key: { ...k, window_start: start, window_ms: windowMs }, rollup: emptyRollup() };
            targets.set(id, t);
          }
          for (const body of taken) mergeRollup(t.rollup, decodeRollup(body));
          moved++;
        }
        await this.insertRows([...targets.values()].map((t) => ({ ...t.key, body: encodeRollup(t.rollup) })));
      });
      if (keys.length < COMPACT_KEYS) break;
    }
    return moved;
  }

  async deleteOlderThan(ts: number): Promise<number> {
    let removed = 0;
    // Batches by window start, so no single statement holds its locks for long.
    for (;;) {
      const ids = await this.ctx
        .db()
        .selectFrom('rollups')
        .select('id')
        .where('window_start', '<', ts)
        .where((eb) => eb(eb('window_start', '+', eb.ref('window_ms')), '<=', ts))
        .limit(5000)
        .execute();
      if (ids.length === 0) return removed;
      const r = await this.ctx
        .db()
        .deleteFrom('rollups')
        .where(
          'id',
          'in',
          ids.map((x) => x.id),
        )
        .executeTakeFirst();
      removed += count(r.numDeletedRows);
      if (ids.length < 5000) return removed;
    }
  }

  async bytes(): Promise<number> {
    const r = await this.ctx.dialect.tableBytes('rollups').execute(this.ctx.db());
    return Number(r.rows[0]?.bytes ?? 0);
  }
}
