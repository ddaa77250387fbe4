/**
 * @module store/repositories/ingest-rollups
 * Folding stored telemetry into rollups as part of the same transaction (rollup-store-types.ts).
 * What a fold needs from the database — each version's BinSpec and each device's group — is read
 * before the transaction (prepare), so the writers' hot paths stay synchronous where they are
 * (SQLite). Each new record is folded once, into a cell per (device, version, role, minute); the
 * cells are then merged into the device's 10-minute window and the group's and fleet's minute
 * windows, so a group commit yields one delta per key, however many records it holds.
 *
 * Keys use device time (the record's ts), so windows follow the data even when a simulator
 * compresses time or a device uploads a backlog hours late.
 */
import {
  binSpecFor,
  binSpecOfVersion,
  cloneRollup,
  emptyRollup,
  foldLateReference,
  foldRecord,
  mergeRollup,
  MINUTE_MS,
  windowStart,
  WINDOW_MS,
  type BinSpec,
  type Rollup,
  type RollupRole,
  type ScopeKey,
  type TelemetryRecord,
} from '@edgeloop/protocol';
import type { IngestBatch } from '../fleet-store.js';
import type { RollupDelta } from '../rollup-store-types.js';
import type { ModelVersionRecord } from '../store-types.js';
import { parseJson, type RepositoryContext } from './context.js';
import { rollupRow, type RollupRow } from './rollup-repository.js';

const versionKey = (model: string, version: number) => `${model}\u0000${version}`;

/** A record whose reference was set after it was folded: what foldLateReference needs. */
export interface LateReference {
  deviceId: string;
  model: string;
  version: number;
  shadow: boolean;
  ts: number;
  prediction: number | null;
  reference: number;
}

/** What one group commit's fold needs, read beforehand. */
export class BatchFold {
  constructor(
    private readonly specs: ReadonlyMap<string, BinSpec>,
    private readonly groups: ReadonlyMap<string, string | null>,
  ) {}

  private spec(model: string, version: number): BinSpec {
    return this.specs.get(versionKey(model, version)) ?? binSpecFor(null);
  }

  private scopes(deviceId: string): ScopeKey[] {
    const group = this.groups.get(deviceId);
    return group ? ['fleet', `group:${group}`] : ['fleet'];
  }

  /** Deltas for the records that were new: fresh[i] are batches[i]'s, with any reference value they got on the way in. */
  deltas(batches: readonly IngestBatch[], fresh: ReadonlyArray<readonly TelemetryRecord[]>): RollupDelta[] {
    // Cells: device × version × role × minute, each record folded exactly once.
    const cells = new Map<
      string,
      { deviceId: string; model: string; version: number; role: RollupRole; minute: number; rollup: Rollup }
    >();
    for (let i = 0; i < batches.length; i++) {
      const deviceId = batches[i]!.deviceId;
      let last: { key: string; rollup: Rollup; spec: BinSpec } | undefined;
      for (const r of fresh[i] ?? []) {
        const role: RollupRole = r.shadow ? 'shadow' : 'serving';
        const minute = windowStart(r.ts, MINUTE_MS);
        const key = `${deviceId}\u0000${r.model}\u0000${r.version}\u0000${role}\u0000${minute}`;
        if (last?.key !== key) {
          const spec = this.spec(r.model, r.version);
          let cell = cells.get(key);
          if (!cell) {
            cell = {
              deviceId,
              model: r.model,
              version: r.version,
              role,
              minute,
              rollup: emptyRollup(spec.classes !== undefined),
            };
            cells.set(key, cell);
          }
          last = { key, rollup: cell.rollup, spec };
        }
        foldRecord(last.rollup, last.spec, r);
      }
    }
    const out = new Map<string, RollupDelta>();
    const add = (
      scope: ScopeKey,
      windowMs: number,
      c: { model: string; version: number; role: RollupRole; minute: number; rollup: Rollup },
    ) => {
      const start = windowStart(c.minute, windowMs);
      const key = `${c.model}\u0000${c.version}\u0000${c.role}\u0000${scope}\u0000${start}\u0000${windowMs}`;
      const have = out.get(key);
      if (have) mergeRollup(have.rollup, c.rollup);
      else
        out.set(key, {
          model: c.model,
          version: c.version,
          role: c.role,
          scope,
          windowStart: start,
          windowMs,
          rollup: cloneRollup(c.rollup),
        });
    };
    for (const c of cells.values()) {
      add(`device:${c.deviceId}`, WINDOW_MS.device, c);
      for (const scope of this.scopes(c.deviceId)) add(scope, scope === 'fleet' ? WINDOW_MS.fleet : WINDOW_MS.group, c);
    }
    return [...out.values()];
  }

  rows(batches: readonly IngestBatch[], fresh: ReadonlyArray<readonly TelemetryRecord[]>): RollupRow[] {
    return this.deltas(batches, fresh).map(rollupRow);
  }

  /** Deltas holding only the reference and error parts of records whose reference came late. */
  lateDeltas(late: readonly LateReference[]): RollupDelta[] {
    const out = new Map<string, RollupDelta>();
    for (const l of late) {
      const role: RollupRole = l.shadow ? 'shadow' : 'serving';
      const spec = this.spec(l.model, l.version);
      const keys: Array<[ScopeKey, number]> = [[`device:${l.deviceId}`, WINDOW_MS.device]];
      for (const scope of this.scopes(l.deviceId))
        keys.push([scope, scope === 'fleet' ? WINDOW_MS.fleet : WINDOW_MS.group]);
      for (const [scope, windowMs] of keys) {
        const start = windowStart(l.ts, windowMs);
        const key = `${l.model}\u0000${l.version}\u0000${role}\u0000${scope}\u0000${start}\u0000${windowMs}`;
        let d = out.get(key);
        if (!d) {
          d = {
            model: l.model,
            version: l.version,
            role,
            scope,
            windowStart: start,
            windowMs,
            rollup: emptyRollup(spec.classes !== undefined),
          };
          out.set(key, d);
        }
        foldLateReference(d.rollup, spec, l.prediction, l.reference);
      }
    }
    return [...out.values()];
  }
}

/**
 * Reads what folds need. BinSpecs are cached per version for the life of the store: a version's
 * edges must not change under its stored rollups. A version not registered (yet) is not cached,
 * and folds on universal edges.
 */
export class IngestRollups {
  private readonly specs = new Map<string, BinSpec>();

  constructor(private readonly ctx: RepositoryContext) {}

  async prepare(devices: Iterable<string>, versions: Iterable<{ model: string; version: number }>): Promise<BatchFold> {
    const wanted = new Map<string, { model: string; version: number }>();
    for (const v of versions) {
      const k = versionKey(v.model, v.version);
      if (!this.specs.has(k)) wanted.set(k, v);
    }
    for (const v of wanted.values()) {
      const row = await this.ctx
        .db()
        .selectFrom('model_versions')
        .select(['manifest', 'training_summary'])
        .where('name', '=', v.model)
        .where('version', '=', v.version)
        .executeTakeFirst();
      if (!row) continue;
      this.specs.set(
        versionKey(v.model, v.version),
        binSpecOfVersion(
          parseJson<ModelVersionRecord['manifest'] | undefined>(row.manifest, undefined),
          parseJson<ModelVersionRecord['trainingSummary']>(row.training_summary, null),
        ),
      );
    }
    const ids = [...new Set(devices)];
    const groups = new Map<string, string | null>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.ctx
        .db()
        .selectFrom('devices')
        .select(['id', 'device_group'])
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) groups.set(r.id, r.device_group);
    }
    return new BatchFold(this.specs, groups);
  }

  prepareBatches(batches: readonly IngestBatch[]): Promise<BatchFold> {
    const versions = new Map<string, { model: string; version: number }>();
    for (const b of batches)
      for (const r of b.records) {
        const k = versionKey(r.model, r.version);
        if (!versions.has(k)) versions.set(k, { model: r.model, version: r.version });
      }
    return this.prepare(
      batches.map((b) => b.deviceId),
      versions.values(),
    );
  }
}
