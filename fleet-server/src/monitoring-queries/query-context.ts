/**
 * @module monitoring-queries/query-context
 * What every monitoring query settles first: the time range it covers and the model version it
 * is about (its BinSpec and reference distribution), with the errors a caller can act on.
 */
import { binSpecOfVersion, type BinSpec, type ReferenceDistribution } from '@edgeloop/protocol';
import { RegistryError } from '../registry/model-registry.js';
import type { FleetStore } from '../store/fleet-store.js';
import type { ModelVersionRecord } from '../store/store-types.js';
import type { ReferenceSource } from './reference-source.js';

export interface QueryDeps {
  store: Pick<FleetStore, 'rollups' | 'models'>;
  references: ReferenceSource;
  /** Device-time "now" for ranges without an end (tests pass their simulated clock). */
  now?: () => number;
}

export interface QueryRange {
  from: number;
  to: number;
}

/** [from, to): `to` defaults to now, `from` to `defaultSpanMs` before it. */
export function resolveRange(
  deps: Pick<QueryDeps, 'now'>,
  q: { from?: number | undefined; to?: number | undefined },
  defaultSpanMs: number,
): QueryRange {
  const to = q.to ?? (deps.now ?? Date.now)();
  const from = q.from ?? to - defaultSpanMs;
  if (from >= to)
    throw new RegistryError(400, `from (${from}) must be before to (${to}); both are ms since the epoch, device time`);
  return { from, to };
}

export interface VersionContext {
  record: ModelVersionRecord;
  spec: BinSpec;
  reference: ReferenceDistribution | null;
}

/** The version's spec and reference; 404 when it is not registered. */
export async function versionContext(deps: QueryDeps, model: string, version: number): Promise<VersionContext> {
  const record = await deps.store.models.get(model, version);
  if (!record)
    throw new RegistryError(
      404,
      `no model version ${model}@${version}; edgeloop models list shows the registered ones`,
    );
  return contextOf(deps, record);
}

export async function contextOf(
  deps: Pick<QueryDeps, 'references'>,
  record: ModelVersionRecord,
): Promise<VersionContext> {
  return {
    record,
    spec: binSpecOfVersion(record.manifest, record.trainingSummary),
    reference: await deps.references.referenceFor(record.name, record.version),
  };
}

/** JSON has no NaN or Infinity: a metric that is not a finite number is reported as no value. */
export function finiteOrNull(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
