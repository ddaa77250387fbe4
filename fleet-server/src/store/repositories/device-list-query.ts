/**
 * @module store/repositories/device-list-query
 * The device list as SQL: filters, one sort column with the id as tie-breaker, keyset pages and
 * the count of every match, plus the distinct values the list's filters offer (facets). Kept
 * apart from the device repository's writes because it is the one place that reads `devices`
 * together with `device_models` and `assignments` for an operator's query.
 *
 * Every sort value is coalesced to a non-null one (numbers to -1, text to ''), so unknown
 * values sort first ascending on SQLite and PostgreSQL alike (their NULL orders differ), and a
 * page's last value can be compared with `>`/`<` to start the next page (a keyset cursor: pages
 * neither skip nor repeat a device when devices are added or removed in between).
 */
import { sql, type Expression, type ExpressionBuilder, type Selectable } from 'kysely';
import type { DeviceFacetCounts, DevicePage, DevicePageQuery, DeviceSortKey } from '../fleet-store.js';
import type { Database, DevicesTable } from '../schema.js';
import type { SqlDialect } from '../sql-dialect.js';
import type { RepositoryContext } from './context.js';

type DevicesEb = ExpressionBuilder<Database, 'devices'>;

/** The WHERE of a device list: every given criterion must hold. */
export function deviceFilter(dialect: SqlDialect, f: DevicePageQuery) {
  return (eb: DevicesEb) => {
    const and = [];
    if (f.group !== undefined) and.push(eb('device_group', '=', f.group));
    for (const [k, v] of Object.entries(f.tags ?? {})) and.push(dialect.jsonHasEntry(eb.ref('devices.tags'), k, v));
    if (f.disabled !== undefined) and.push(eb('disabled', '=', f.disabled ? 1 : 0));
    if (f.online !== undefined) and.push(eb('online', '=', f.online ? 1 : 0));
    if (f.idContains !== undefined) and.push(dialect.contains(eb.ref('devices.id'), f.idContains));
    if (f.hardware !== undefined) and.push(eb(dialect.jsonText(eb.ref('devices.info'), 'hardware'), '=', f.hardware));
    if (f.agentVersion !== undefined)
      and.push(eb(dialect.jsonText(eb.ref('devices.info'), 'agentVersion'), '=', f.agentVersion));
    if (f.model !== undefined) {
      const { name, version, of } = f.model;
      const running = eb(
        'devices.id',
        'in',
        eb
          .selectFrom('device_models')
          .select('device_models.device_id')
          .where('device_models.model', '=', name)
          .$if(version !== undefined, (q) => q.where('device_models.version', '=', version!)),
      );
      const assigned = eb(
        'devices.id',
        'in',
        eb
          .selectFrom('assignments')
          .select('assignments.device_id')
          .where('assignments.model', '=', name)
          .$if(version !== undefined, (q) => q.where('assignments.version', '=', version!)),
      );
      and.push(of === 'running' ? running : of === 'assigned' ? assigned : eb.or([running, assigned]));
    }
    return eb.and(and);
  };
}

/** Whether a sort column's values are numbers (else text): what a cursor's key must be. */
export const NUMERIC_SORTS: ReadonlySet<DeviceSortKey> = new Set(['lastSeen', 'backlog', 'dropped', 'version']);

/** The non-null value a device sorts by. */
function sortExpression(
  dialect: SqlDialect,
  eb: DevicesEb,
  sort: DeviceSortKey,
  model: string | undefined,
): Expression<string | number> {
  switch (sort) {
    case 'id':
      return eb.ref('devices.id');
    case 'lastSeen':
      return eb.fn.coalesce('devices.last_seen', sql.lit(-1));
    case 'backlog':
      return eb.ref('devices.backlog');
    case 'dropped':
      return eb.ref('devices.dropped');
    case 'group':
      return eb.fn.coalesce('devices.device_group', sql.lit(''));
    case 'hardware':
      return eb.fn.coalesce(dialect.jsonText(eb.ref('devices.info'), 'hardware'), sql.lit(''));
    case 'agentVersion':
      return eb.fn.coalesce(dialect.jsonText(eb.ref('devices.info'), 'agentVersion'), sql.lit(''));
    case 'version':
      return eb.fn.coalesce(
        eb
          .selectFrom('device_models')
          .select((m) => m.fn.max('device_models.version').as('v'))
          .whereRef('device_models.device_id', '=', 'devices.id')
          .$if(model !== undefined, (q) => q.where('device_models.model', '=', model!)),
        sql.lit(-1),
      );
  }
}

export async function pageDevices(
  ctx: RepositoryContext,
  q: DevicePageQuery,
  toRecord: (r: Selectable<DevicesTable>) => DevicePage['devices'][number],
): Promise<DevicePage> {
  const sort = q.sort ?? 'id';
  const desc = q.order === 'desc';
  const db = ctx.db();
  const where = deviceFilter(ctx.dialect, q);
  const key = (eb: DevicesEb) => sortExpression(ctx.dialect, eb, sort, q.model?.name);
  let rows = db
    .selectFrom('devices')
    .selectAll('devices')
    .select((eb) => sql<string | number>`${key(eb)}`.as('sort_key'))
    .where(where);
  if (q.after) {
    const { key: after, id } = q.after;
    rows = rows.where((eb) =>
      sort === 'id'
        ? eb('devices.id', desc ? '<' : '>', id)
        : eb.or([eb(key(eb), desc ? '<' : '>', after), eb.and([eb(key(eb), '=', after), eb('devices.id', '>', id)])]),
    );
  }
  rows = rows.orderBy((eb) => key(eb), desc ? 'desc' : 'asc');
  if (sort !== 'id') rows = rows.orderBy('devices.id', 'asc');
  if (q.limit !== undefined) rows = rows.limit(q.limit + 1);
  const [found, counted] = await Promise.all([
    rows.execute(),
    q.limit === undefined
      ? undefined
      : db
          .selectFrom('devices')
          .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
          .where(where)
          .executeTakeFirstOrThrow(),
  ]);
  const more = q.limit !== undefined && found.length > q.limit;
  const page = more ? found.slice(0, q.limit) : found;
  const last = page.at(-1);
  return {
    devices: page.map(toRecord),
    total: counted === undefined ? found.length : Number(counted.n),
    next:
      more && last
        ? { key: NUMERIC_SORTS.has(sort) ? Number(last.sort_key) : String(last.sort_key), id: last.id }
        : null,
  };
}

const byValue = (a: { value: string | null }, b: { value: string | null }) =>
  a.value === b.value ? 0 : a.value === null ? -1 : b.value === null ? 1 : a.value < b.value ? -1 : 1;

export async function deviceFacets(ctx: RepositoryContext): Promise<DeviceFacetCounts> {
  const db = ctx.db();
  const info = (key: string) => async () =>
    (
      await db
        .selectFrom('devices')
        .select((eb) => [
          ctx.dialect.jsonText(eb.ref('devices.info'), key).as('value'),
          eb.fn.countAll<number | string | bigint>().as('n'),
        ])
        // By position: PostgreSQL takes the same expression with its own parameters for another one.
        .groupBy(sql`1`)
        .execute()
    )
      .map((r) => ({ value: r.value, count: Number(r.n) }))
      .sort(byValue);
  const [totals, groups, hardware, agentVersions, running] = await Promise.all([
    db
      .selectFrom('devices')
      .select((eb) => [
        eb.fn.countAll<number | string | bigint>().as('total'),
        eb.fn.coalesce(eb.fn.sum<number | string | bigint>('online'), sql.lit(0)).as('online'),
        eb.fn.coalesce(eb.fn.sum<number | string | bigint>('disabled'), sql.lit(0)).as('disabled'),
      ])
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('devices')
      .select((eb) => ['device_group as value', eb.fn.countAll<number | string | bigint>().as('n')])
      .groupBy('device_group')
      .execute()
      .then((rows) => rows.map((r) => ({ value: r.value, count: Number(r.n) })).sort(byValue)),
    info('hardware')(),
    info('agentVersion')(),
    db
      .selectFrom('device_models')
      .select((eb) => ['model', 'version', eb.fn.countAll<number | string | bigint>().as('n')])
      .groupBy(['model', 'version'])
      .orderBy('model')
      .orderBy('version')
      .execute(),
  ]);
  return {
    total: Number(totals.total),
    online: Number(totals.online),
    disabled: Number(totals.disabled),
    groups,
    hardware,
    agentVersions,
    running: running.map((r) => ({ model: r.model, version: r.version, count: Number(r.n) })),
  };
}
