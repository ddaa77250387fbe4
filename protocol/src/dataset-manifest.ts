/**
 * @module dataset-manifest
 * A dataset snapshot's manifest from its items: where they came from (per device, with the
 * capture time window), counts per split, and the label and feature distributions on the same
 * edges the drift code uses (FEATURE_EDGES for image features, valueEdges for the rest), so a
 * snapshot can be compared with live data bin by bin without re-reading its images. The fleet
 * server's snapshots and the simulator's generated folders are both described by it.
 */
import { FEATURE_EDGES, histogramOf, valueEdges } from './baseline.js';
import {
  DATASET_FORMAT,
  datasetManifestSchema,
  type DatasetManifest,
  type SnapshotItem,
  type SplitRatios,
  type ValueSummary,
} from './dataset.js';

/** An item as the manifest sees it: no file name, its content type instead. */
export type DatasetManifestItem = Omit<SnapshotItem, 'file'> & { contentType: string };

export interface DatasetManifestInput {
  id: string;
  name?: string | undefined;
  description?: string | undefined;
  createdAt: number;
  origin: DatasetManifest['origin'];
  ratios: SplitRatios;
  items: readonly DatasetManifestItem[];
  /** Unit of the labels, e.g. "mm". */
  labelUnit?: string;
}

export function summarize(values: readonly number[], edges?: readonly number[]): ValueSummary {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return {
    count: values.length,
    min,
    max,
    mean,
    std: Math.sqrt(squares / values.length),
    histogram: histogramOf(values, edges ?? valueEdges(min, max)),
  };
}

function sources(items: readonly DatasetManifestItem[]): DatasetManifest['sources'] {
  const byDevice = new Map<string | null, { count: number; from: number | null; to: number | null }>();
  for (const it of items) {
    const key = it.deviceId ?? null;
    const s = byDevice.get(key) ?? { count: 0, from: null, to: null };
    s.count++;
    if (it.ts !== undefined) {
      s.from = s.from === null ? it.ts : Math.min(s.from, it.ts);
      s.to = s.to === null ? it.ts : Math.max(s.to, it.ts);
    }
    byDevice.set(key, s);
  }
  return [...byDevice]
    .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0))
    .map(([deviceId, s]) => ({ deviceId, ...s }));
}

function features(items: readonly DatasetManifestItem[]): DatasetManifest['features'] {
  const values = new Map<string, number[]>();
  for (const it of items)
    for (const [name, v] of Object.entries(it.features ?? {})) {
      const list = values.get(name) ?? [];
      list.push(v);
      values.set(name, list);
    }
  const out: DatasetManifest['features'] = {};
  for (const name of [...values.keys()].sort()) out[name] = summarize(values.get(name)!, FEATURE_EDGES[name]);
  return out;
}

/** Throws when the items are empty: a snapshot always has at least one. */
export function buildDatasetManifest(input: DatasetManifestInput): DatasetManifest {
  const { items } = input;
  if (items.length === 0) throw new RangeError('a dataset manifest needs at least one item');
  const counts = { total: items.length, train: 0, validation: 0, holdout: 0 };
  const contentTypes: Record<string, number> = {};
  for (const it of items) {
    counts[it.split]++;
    contentTypes[it.contentType] = (contentTypes[it.contentType] ?? 0) + 1;
  }
  // Parsed on the way out: a manifest that does not fit the folder format must never be stored.
  return datasetManifestSchema.parse({
    format: DATASET_FORMAT,
    id: input.id,
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    createdAt: input.createdAt,
    origin: input.origin,
    sources: sources(items),
    counts,
    split: { rule: 'sha256', ratios: input.ratios },
    label: {
      ...summarize(items.map((i) => i.label)),
      ...(input.labelUnit !== undefined ? { unit: input.labelUnit } : {}),
    },
    features: features(items),
    contentTypes,
  });
}
