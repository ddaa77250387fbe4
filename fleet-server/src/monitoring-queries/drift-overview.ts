/**
 * @module monitoring-queries/drift-overview
 * The fleet's drift at a glance: every model version (and role) with records in the range, its
 * live error against its validation error, a drift verdict per quantity (each feature, the
 * output, the reference value) with the defaults of drift-defaults.ts, the devices whose own
 * windows drifted, and since when (drift-onset.ts). A version costs two rollup reads however many
 * devices it has, its fleet sum and one sumPerScope over its devices, and two more when it is on
 * the page answered: the windows of the fleet and of its listed devices, for the onsets.
 *
 * Worst first: most drifted quantities fleet-wide, then most drifted devices, then the highest
 * MAE ratio. The cursor is an offset into that order, which is computed afresh on every page, so
 * a version whose rank changes between pages may be shown twice or skipped.
 */
import {
  denseCounts,
  driftVerdict,
  featureEdges,
  MINUTE_MS,
  ROLLUP_ROLES,
  type ReferenceDistribution,
  type Rollup,
  type BinSpec,
} from '@edgeloop/protocol';
import {
  DRIFT_DEVICES_DEFAULT_LIMIT,
  DRIFT_OVERVIEW_DEFAULT_LIMIT,
  type DriftOverviewEntry,
  type DriftOverviewQuery,
  type DriftOverviewResponse,
} from '@edgeloop/protocol/rest';
import { errorSummary } from '../rollups/live-error.js';
import type { RollupWindow } from '../store/rollup-store-types.js';
import { RegistryError } from '../registry/model-registry.js';
import { driftOnset } from './drift-onset.js';
import { contextOf, finiteOrNull, resolveRange, type QueryDeps } from './query-context.js';
import { VALIDATION_MAE_METRIC } from './reference-source.js';

/** Range of the overview when the caller gives no `from`: recent enough to mean "now". */
export const DEFAULT_OVERVIEW_SPAN_MS = 15 * MINUTE_MS;

type QuantityVerdict = DriftOverviewEntry['verdicts'][number];

/** A verdict per quantity the reference has values for. */
export function judgeRollup(live: Rollup, spec: BinSpec, reference: ReferenceDistribution): QuantityVerdict[] {
  const out: QuantityVerdict[] = [];
  const judge = (
    quantity: string,
    ref: Rollup['output'] | undefined,
    cur: Rollup['output'] | undefined,
    edges: readonly number[],
    categorical: boolean,
  ) => {
    if (!ref || ref.n === 0) return;
    const v = driftVerdict(denseCounts(ref.bins, edges), denseCounts(cur?.bins ?? {}, edges), edges, { categorical });
    out.push({ quantity, ...v, value: finiteOrNull(v.value) });
  };
  for (const name of Object.keys(reference.features).sort())
    judge(`feature.${name}`, reference.features[name], live.features[name], featureEdges(spec, name), false);
  const categorical = spec.classes !== undefined;
  judge('output', reference.output, live.output, spec.output, categorical);
  judge('reference', reference.reference, live.reference, spec.reference, categorical);
  return out;
}

const driftedOf = (verdicts: readonly QuantityVerdict[]) => verdicts.filter((v) => v.drifted).map((v) => v.quantity);

interface Judging {
  spec: BinSpec;
  reference: ReferenceDistribution;
}

/**
 * Since when the entry's version and its listed devices drift. Only for the entries of the page
 * answered: two reads each, the fleet's windows and the listed devices' windows.
 */
async function addOnsets(
  deps: QueryDeps,
  entry: DriftOverviewEntry,
  { spec, reference }: Judging,
  range: { from: number; to: number },
): Promise<void> {
  const isDrifted = (r: Rollup) => driftedOf(judgeRollup(r, spec, reference)).length > 0;
  const key = { model: entry.model, version: entry.version, role: entry.role, ...range };
  if (entry.drifted.length > 0)
    entry.driftingSince = driftOnset(await deps.store.rollups.windows({ ...key, scopes: ['fleet'] }), isDrifted);
  if (entry.driftedDevices.length === 0) return;
  const byScope = new Map<string, RollupWindow[]>();
  const scopes = entry.driftedDevices.map((d) => `device:${d.deviceId}` as const);
  for (const w of await deps.store.rollups.windows({ ...key, scopes })) {
    const list = byScope.get(w.scope);
    if (list) list.push(w);
    else byScope.set(w.scope, [w]);
  }
  for (const d of entry.driftedDevices)
    d.driftingSince = driftOnset(byScope.get(`device:${d.deviceId}`) ?? [], isDrifted);
}

function parseCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  if (!/^[0-9]{1,9}$/.test(cursor))
    throw new RegistryError(400, `cursor "${cursor}" is not one this server gave; pass a previous answer's nextCursor`);
  return Number(cursor);
}

export async function driftOverview(deps: QueryDeps, q: DriftOverviewQuery): Promise<DriftOverviewResponse> {
  const { from, to } = resolveRange(deps, q, DEFAULT_OVERVIEW_SPAN_MS);
  const offset = parseCursor(q.cursor);
  const limit = q.limit ?? DRIFT_OVERVIEW_DEFAULT_LIMIT;
  const deviceLimit = q.devices ?? DRIFT_DEVICES_DEFAULT_LIMIT;
  const { models, rollups } = deps.store;
  const records = q.model ? await models.versionsOf(q.model) : await models.list();
  if (q.model && records.length === 0)
    throw new RegistryError(404, `no model named "${q.model}" is registered; edgeloop models list shows them`);

  const entries: DriftOverviewEntry[] = [];
  const judging = new Map<DriftOverviewEntry, Judging>();
  for (const record of records) {
    const { name: model, version } = record;
    for (const role of ROLLUP_ROLES) {
      const fleet = await rollups.sum({ model, version, role, scopes: ['fleet'], from, to });
      if (fleet.count === 0) continue;
      const ctx = await contextOf(deps, record);
      const e = errorSummary(fleet);
      const validationMae = ctx.reference?.validationMae ?? record.metrics[VALIDATION_MAE_METRIC] ?? null;
      // A reference holding only a validation MAE (no training summary) has nothing to judge drift by.
      const reference = ctx.reference && ctx.reference.count > 0 ? ctx.reference : null;
      const verdicts = reference ? judgeRollup(fleet, ctx.spec, reference) : [];
      const drifted = driftedOf(verdicts);
      const devices: DriftOverviewEntry['driftedDevices'] = [];
      if (reference) {
        const perDevice = await rollups.sumPerScope({ model, version, role, from, to, scopePrefix: 'device:' });
        for (const [scope, rollup] of perDevice) {
          const driftedHere = driftedOf(judgeRollup(rollup, ctx.spec, reference));
          if (driftedHere.length > 0)
            devices.push({
              deviceId: scope.slice('device:'.length),
              count: rollup.count,
              drifted: driftedHere,
              driftingSince: null,
            });
        }
        devices.sort(
          (a, b) => b.drifted.length - a.drifted.length || b.count - a.count || a.deviceId.localeCompare(b.deviceId),
        );
      }
      const entry: DriftOverviewEntry = {
        model,
        version,
        role,
        count: fleet.count,
        error: {
          n: e.n,
          mae: finiteOrNull(e.mae),
          rmse: finiteOrNull(e.rmse),
          bias: finiteOrNull(e.bias),
          validationMae,
          maeRatio: e.mae !== null && validationMae ? finiteOrNull(e.mae / validationMae) : null,
        },
        hasReference: reference !== null,
        verdicts,
        drifted,
        driftingSince: null,
        driftedDeviceCount: devices.length,
        driftedDevices: devices.slice(0, deviceLimit),
      };
      entries.push(entry);
      if (reference) judging.set(entry, { spec: ctx.spec, reference });
    }
  }
  entries.sort(
    (a, b) =>
      b.drifted.length - a.drifted.length ||
      b.driftedDeviceCount - a.driftedDeviceCount ||
      (b.error.maeRatio ?? -1) - (a.error.maeRatio ?? -1) ||
      a.model.localeCompare(b.model) ||
      b.version - a.version ||
      a.role.localeCompare(b.role),
  );
  const page = entries.slice(offset, offset + limit);
  for (const entry of page) {
    const j = judging.get(entry);
    if (j) await addOnsets(deps, entry, j, { from, to });
  }
  return { from, to, versions: page, nextCursor: offset + limit < entries.length ? String(offset + limit) : null };
}
