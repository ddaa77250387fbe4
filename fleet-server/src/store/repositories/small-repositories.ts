/**
 * @module store/repositories/small-repositories
 * The tables whose repositories are a handful of plain statements each: update_events,
 * samples, audit_log and transfer_bytes.
 */
import type { AuditEntrySummary, SampleSummary } from '@edgeloop/protocol';
import type {
  AuditQuery,
  AuditRepository,
  DatasetSample,
  NewSample,
  OutboxPosition,
  SampleRepository,
  SampleSelection,
  TransferRepository,
  TransferRow,
  UpdateEvent,
  UpdateEventRepository,
} from '../fleet-store.js';
import { count, parseJson, type RepositoryContext } from './context.js';

export class KyselyUpdateEventRepository implements UpdateEventRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async append(deviceId: string, e: UpdateEvent, outbox?: OutboxPosition): Promise<boolean> {
    const result = await this.ctx
      .db()
      .insertInto('update_events')
      .values({
        device_id: deviceId,
        model: e.model,
        version: e.version,
        state: e.state,
        code: e.code,
        reason: e.reason,
        session: e.session,
        report_seq: e.reportSeq,
        ts: e.ts,
        received_at: e.receivedAt,
        outbox_stream: outbox?.stream ?? null,
        outbox_id: outbox?.id ?? null,
      })
      // The unique index on (device_id, outbox_stream, outbox_id) is the only one that can
      // conflict, and only for a report with a position (NULLs never collide).
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async hasOutboxReport(deviceId: string, outbox: OutboxPosition): Promise<boolean> {
    const row = await this.ctx
      .db()
      .selectFrom('update_events')
      .select('id')
      .where('device_id', '=', deviceId)
      .where('outbox_stream', '=', outbox.stream)
      .where('outbox_id', '=', outbox.id)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async list(deviceId: string, limit = 50): Promise<UpdateEvent[]> {
    return this.ctx
      .db()
      .selectFrom('update_events')
      .select([
        'model',
        'version',
        'state',
        'code',
        'reason',
        'session',
        'report_seq as reportSeq',
        'ts',
        'received_at as receivedAt',
      ])
      .where('device_id', '=', deviceId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }
}

export class KyselySampleRepository implements SampleRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async insert(s: NewSample): Promise<boolean> {
    const r = await this.ctx
      .db()
      .insertInto('samples')
      .values({
        device_id: s.deviceId,
        stream: s.stream,
        seq: s.seq,
        model: s.model,
        version: s.version,
        ts: s.ts,
        reason: s.reason,
        prediction: s.prediction,
        reference: s.reference,
        content_type: s.contentType,
        sha256: s.sha256,
        bytes: s.bytes,
        received_at: s.receivedAt,
      })
      .onConflict((oc) => oc.columns(['device_id', 'stream', 'seq']).doNothing())
      .executeTakeFirst();
    return count(r.numInsertedOrUpdatedRows) > 0;
  }

  async list(q: { device?: string; model?: string; limit?: number } = {}): Promise<SampleSummary[]> {
    let query = this.ctx.db().selectFrom('samples').selectAll();
    if (q.device) query = query.where('device_id', '=', q.device);
    if (q.model) query = query.where('model', '=', q.model);
    return (
      await query
        .orderBy('id', 'desc')
        .limit(Math.min(Math.max(q.limit ?? 100, 1), 10_000))
        .execute()
    ).map(toSample);
  }

  async forDataset(q: SampleSelection): Promise<DatasetSample[]> {
    const query = this.selected(q);
    if (!query) return [];
    const rows = await query
      .selectAll('s')
      .select(['t.reference as record_reference', 'p.reference as pending_reference', 't.features as features'])
      .orderBy('s.id')
      .execute();
    return rows.map((r) => {
      const features = parseJson<Record<string, number>>(r.features, {});
      return {
        ...toSample(r),
        // The sample's own value, else the record's (joined late), else one still waiting for its record.
        reference: r.reference ?? r.record_reference ?? r.pending_reference ?? null,
        features: Object.keys(features).length > 0 ? features : null,
      };
    });
  }

  async countWithReference(q: SampleSelection): Promise<number> {
    const query = this.selected(q);
    if (!query) return 0;
    const row = await query
      .where((eb) =>
        eb.or([
          eb('s.reference', 'is not', null),
          eb('t.reference', 'is not', null),
          eb('p.reference', 'is not', null),
        ]),
      )
      .select((eb) => eb.fn.count<number | string | bigint>('s.sha256').distinct().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Samples joined with their record and any waiting reference, filtered; undefined: none can match. */
  private selected(q: SampleSelection) {
    if (q.devices !== undefined && q.devices.length === 0) return undefined;
    let query = this.ctx
      .db()
      .selectFrom('samples as s')
      .leftJoin('telemetry as t', (j) =>
        j.onRef('t.device_id', '=', 's.device_id').onRef('t.stream', '=', 's.stream').onRef('t.seq', '=', 's.seq'),
      )
      .leftJoin('pending_references as p', (j) =>
        j.onRef('p.device_id', '=', 's.device_id').onRef('p.stream', '=', 's.stream').onRef('p.seq', '=', 's.seq'),
      );
    if (q.model !== undefined) query = query.where('s.model', '=', q.model);
    if (q.version !== undefined) query = query.where('s.version', '=', q.version);
    if (q.excludeVersions !== undefined && q.excludeVersions.length > 0)
      query = query.where('s.version', 'not in', [...q.excludeVersions]);
    if (q.devices !== undefined) query = query.where('s.device_id', 'in', [...q.devices]);
    if (q.from !== undefined) query = query.where('s.ts', '>=', q.from);
    if (q.to !== undefined) query = query.where('s.ts', '<', q.to);
    if (q.reasons !== undefined && q.reasons.length > 0) query = query.where('s.reason', 'in', [...q.reasons]);
    return query;
  }

  async get(id: number): Promise<SampleSummary | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    const r = await this.ctx.db().selectFrom('samples').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toSample(r);
  }
}

function toSample(r: {
  id: number;
  device_id: string;
  stream: string;
  seq: number;
  model: string;
  version: number;
  ts: number;
  reason: string;
  prediction: number | null;
  reference: number | null;
  content_type: string;
  sha256: string;
  bytes: number;
  received_at: number;
}): SampleSummary {
  return {
    id: Number(r.id),
    deviceId: r.device_id,
    stream: r.stream,
    seq: r.seq,
    model: r.model,
    version: r.version,
    ts: r.ts,
    reason: r.reason,
    prediction: r.prediction,
    reference: r.reference,
    contentType: r.content_type,
    sha256: r.sha256,
    bytes: r.bytes,
    receivedAt: r.received_at,
  };
}

export class KyselyAuditRepository implements AuditRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async append(e: Omit<AuditEntrySummary, 'id'>): Promise<void> {
    await this.ctx
      .db()
      .insertInto('audit_log')
      .values({ ts: e.ts, actor: e.actor, action: e.action, target: e.target, details: JSON.stringify(e.details) })
      .execute();
  }

  async list(q: AuditQuery = {}): Promise<AuditEntrySummary[]> {
    let query = this.ctx.db().selectFrom('audit_log').selectAll();
    if (q.actor) query = query.where('actor', '=', q.actor);
    if (q.action) {
      const action = q.action;
      query = query.where((eb) => eb.or([eb('action', '=', action), eb('action', 'like', `${action}.%`)]));
    }
    if (q.target) query = query.where('target', '=', q.target);
    if (q.before) query = query.where('id', '<', q.before);
    const rows = await query
      .orderBy('id', 'desc')
      .limit(Math.min(q.limit ?? 100, 1000))
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      ts: r.ts,
      actor: r.actor,
      action: r.action,
      target: r.target,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  }
}

export class KyselyTransferRepository implements TransferRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  add(rows: readonly TransferRow[], now = Date.now()): Promise<void> {
    return this.ctx.atomic(async () => {
      for (const p of rows) {
        await this.ctx
          .db()
          .insertInto('transfer_bytes')
          .values({
            device_id: p.deviceId,
            sha256: p.sha256,
            transport: p.transport,
            bytes: p.bytes,
            requests: p.requests,
            updated_at: now,
          })
          .onConflict((oc) =>
            oc.columns(['device_id', 'sha256', 'transport']).doUpdateSet((eb) => ({
              bytes: eb('transfer_bytes.bytes', '+', eb.ref('excluded.bytes')),
              requests: eb('transfer_bytes.requests', '+', eb.ref('excluded.requests')),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute();
      }
    });
  }

  async detail(deviceId: string) {
    const rows = await this.ctx
      .db()
      .selectFrom('transfer_bytes')
      .select(['sha256', 'transport', 'bytes', 'requests', 'updated_at'])
      .where('device_id', '=', deviceId)
      .orderBy('updated_at', 'desc')
      .execute();
    return rows.map((r) => ({
      sha256: r.sha256,
      transport: r.transport as 'http' | 'mqtt',
      bytes: r.bytes,
      requests: r.requests,
      updatedAt: r.updated_at,
    }));
  }
}
