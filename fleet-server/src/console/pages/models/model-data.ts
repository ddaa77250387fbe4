/**
 * @module console/pages/models/model-data
 * What the model pages read from the API, gathered once per page: the versions of a model, which
 * devices run which version, its rollouts, its lineage. Plus the small formatting every models
 * page shares (status badge tones, metric lists).
 */
import type { ModelVersionSummary } from '@edgeloop/protocol';
import type { RestClient } from '@edgeloop/protocol/client';
import type { Tone } from '../../layout/components.js';
import type { LineageInput } from './lineage-graph.js';

export const STATUS_TONE: Record<ModelVersionSummary['status'], Tone> = {
  registered: 'info',
  approved: 'ok',
  deprecated: 'warn',
  revoked: 'bad',
};

/** Model name → version → devices running it now (served, not shadow), from the device facets (one GROUP BY). */
export async function servingCounts(api: RestClient): Promise<Map<string, Map<number, number>>> {
  const facets = await api.getDeviceFacets();
  const serving = new Map<string, Map<number, number>>();
  for (const f of facets.models) {
    if (f.running === 0) continue;
    const byVersion = serving.get(f.model) ?? new Map<number, number>();
    byVersion.set(f.version, f.running);
    serving.set(f.model, byVersion);
  }
  return serving;
}

/** Every version of every model, grouped by name (names sorted), newest version first. */
export function groupByName(models: readonly ModelVersionSummary[]): Map<string, ModelVersionSummary[]> {
  const byName = new Map<string, ModelVersionSummary[]>();
  for (const m of [...models].sort((a, b) => a.name.localeCompare(b.name) || b.version - a.version)) {
    const list = byName.get(m.name) ?? [];
    list.push(m);
    byName.set(m.name, list);
  }
  return byName;
}

/** The versions of one model, newest first; throws the API's 404 wording when there are none. */
export async function versionsOf(api: RestClient, name: string): Promise<ModelVersionSummary[]> {
  const { models } = await api.listModels();
  return models.filter((m) => m.name === name).sort((a, b) => b.version - a.version);
}

/** Everything the lineage graph of one model needs. */
export async function lineageInput(
  api: RestClient,
  name: string,
  serving?: Map<string, Map<number, number>>,
): Promise<LineageInput> {
  const [lineage, rollouts, counts] = await Promise.all([
    api.getLineage({ params: { name } }),
    api.listRollouts({ query: { model: name, limit: 1000 } }),
    serving ? Promise.resolve(serving) : servingCounts(api),
  ]);
  return {
    name,
    versions: lineage.versions,
    rollouts: rollouts.rollouts,
    serving: counts.get(name) ?? new Map(),
  };
}

export function versionHref(name: string, version: number): string {
  return `/models/${encodeURIComponent(name)}/versions/${version}`;
}
