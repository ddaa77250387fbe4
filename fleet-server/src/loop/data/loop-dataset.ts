/**
 * @module loop/data/loop-dataset
 * The retraining loop's data step: how many recent labelled samples there are, a capture window
 * when they are short (loop-capture.ts), and the dataset a challenger trains on: the recent
 * samples of the source devices plus a replayed share of the champion's own training data, so
 * the new version learns the new conditions without forgetting the old ones.
 *
 * "Recent" and "since" are capture times (the samples' ts), the clock the dataset windows use.
 * A sample counts once it has a reference value (its own, its record's, or one waiting for its
 * record), and an image counts once however many samples carry it.
 */
import type { DatasetSelection } from '@edgeloop/protocol';
import type { DatasetOutcome, DatasetService, DrawnCounts } from '../../datasets/dataset-service.js';
import { RegistryError } from '../../registry/model-registry.js';
import type { FleetStore } from '../../store/fleet-store.js';
import type { LoopCaptureDeps } from './loop-capture.js';

export { CAPTURE_UPLOAD_GRACE_MS, openCapture, type CaptureOutcome, type CaptureSpec } from './loop-capture.js';

/** What the loop's data step works with; each function takes only the part it needs. */
export interface LoopDataDeps extends LoopCaptureDeps {
  store: FleetStore;
  datasets: DatasetService;
  now: () => number;
}

/** The recent samples a loop run trains on. */
export interface RecentSpec {
  model: string;
  /** These devices; undefined: every device (an empty list matches nothing). */
  devices?: readonly string[] | undefined;
  /** Capture time window [from, to), ms since the epoch. */
  from: number;
  to: number;
  /** Leave out samples made by these versions of the model (e.g. one being rolled back). */
  excludeVersions?: readonly number[] | undefined;
}

export interface LoopDatasetSpec extends RecentSpec {
  /** Fewer recent samples than this: no dataset, the counts instead. */
  minSamples: number;
  /** At most this many recent samples (a deterministic pick by hash). */
  maxSamples?: number | undefined;
  /** Share of the dataset replayed from the parent, 0 ≤ share < 1. */
  replayShare: number;
  /** The champion's training data (its lineage's datasetId); null: nothing to replay. */
  parentDatasetId: string | null;
  /** Says what made it, e.g. "loop lr-…"; the counts are appended. */
  name: string;
  /** Put before the generated account of what the dataset holds. */
  description?: string | undefined;
}

export type LoopDatasetResult =
  { ok: true; outcome: DatasetOutcome; recent: number; replayed: number } | { ok: false; have: number; need: number };

/** Recent samples with a reference value matching the spec (a count in the database). */
export async function countRecentSamples(deps: Pick<LoopDataDeps, 'store'>, spec: RecentSpec): Promise<number> {
  checkWindow(spec);
  return deps.store.samples.countWithReference(recentSelection(spec));
}

/** Samples with a reference value of the model captured at or after `since` (the "data" trigger). */
export async function newSamplesSince(
  deps: Pick<LoopDataDeps, 'store'>,
  model: string,
  since: number,
): Promise<number> {
  if (!Number.isInteger(since) || since < 0)
    throw new RegistryError(400, `since must be a time in whole milliseconds since the epoch, not ${since}`);
  return deps.store.samples.countWithReference({ model, from: since });
}

/** Replayed items for `recent` recent ones so that they make up `share` of the whole. */
export function replayCount(recent: number, share: number): number {
  if (!(share >= 0 && share < 1))
    throw new RegistryError(400, `replayShare must be at least 0 and below 1, not ${share}`);
  return Math.round((recent * share) / (1 - share));
}

/**
 * The challenger's dataset: the recent samples (at most maxSamples) and, from the parent dataset,
 * replayCount(recent, replayShare) items; or the counts when fewer than minSamples recent ones
 * are there yet. Made twice from the same data, it is the same snapshot (created: false).
 */
export async function buildLoopDataset(
  deps: Pick<LoopDataDeps, 'store' | 'datasets'>,
  spec: LoopDatasetSpec,
): Promise<LoopDatasetResult> {
  const have = await countRecentSamples(deps, spec);
  if (have < spec.minSamples) return { ok: false, have, need: spec.minSamples };
  const recent = spec.maxSamples !== undefined ? Math.min(have, spec.maxSamples) : have;
  const replayWanted = replayCount(recent, spec.replayShare); // checks the share, parent or not
  const replay = spec.parentDatasetId === null ? 0 : replayWanted;
  const selection: DatasetSelection = {
    ...recentSelection(spec),
    ...(spec.maxSamples !== undefined ? { limit: spec.maxSamples } : {}),
    ...(replay > 0 && spec.parentDatasetId !== null ? { include: [spec.parentDatasetId] } : {}),
    includeLimit: replay,
  };
  const { outcome, drawn } = await deps.datasets.createWithCounts(selection, {
    name: (d) => datasetName(spec, d),
    description: (d) => datasetDescription(spec, d, have),
  });
  // Samples whose bytes are missing are counted above but cannot be trained on.
  if (drawn.samples < spec.minSamples) {
    if (outcome.created) await deps.datasets.delete(outcome.dataset.id);
    return { ok: false, have: drawn.samples, need: spec.minSamples };
  }
  return { ok: true, outcome, recent: drawn.samples, replayed: drawn.included };
}

function recentSelection(spec: RecentSpec): DatasetSelection & { model: string } {
  return {
    model: spec.model,
    ...(spec.devices !== undefined ? { devices: [...spec.devices] } : {}),
    from: spec.from,
    to: spec.to,
    ...(spec.excludeVersions !== undefined && spec.excludeVersions.length > 0
      ? { excludeVersions: [...spec.excludeVersions] }
      : {}),
  };
}

function checkWindow(spec: RecentSpec): void {
  if (!(Number.isInteger(spec.from) && Number.isInteger(spec.to) && spec.from >= 0 && spec.from < spec.to))
    throw new RegistryError(
      400,
      `the recent window [${spec.from}, ${spec.to}) is empty or not whole milliseconds; from must be before to`,
    );
}

/** "2025-03-01 12:03Z" */
const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + 'Z';

const devicesText = (n: number) => `${n} device${n === 1 ? '' : 's'}`;

function datasetName(spec: LoopDatasetSpec, d: DrawnCounts): string {
  const replay = d.included > 0 ? ` + ${d.included} of ${spec.parentDatasetId}` : '';
  return `${spec.name}: ${d.samples} samples of ${devicesText(d.sampleDevices)} since ${minute(spec.from)}${replay}`.slice(
    0,
    128,
  );
}

function datasetDescription(spec: LoopDatasetSpec, d: DrawnCounts, have: number): string {
  const excluded = spec.excludeVersions?.length ? `, leaving out v${spec.excludeVersions.join(', v')}` : '';
  const picked = spec.maxSamples !== undefined && have > spec.maxSamples ? ` (a pick by hash of ${have})` : '';
  const recent = `${d.samples} recent samples${picked} of ${spec.model} with a reference value from ${devicesText(d.sampleDevices)}, captured from ${new Date(spec.from).toISOString()} to ${new Date(spec.to).toISOString()}${excluded}.`;
  const replay =
    spec.parentDatasetId === null
      ? ' Nothing replayed: there is no parent dataset.'
      : ` ${d.included} items replayed from ${spec.parentDatasetId} (the champion's training data), for a replay share of ${Math.round(spec.replayShare * 100)} %.`;
  const text = `${recent}${replay}`;
  return (spec.description ? `${spec.description}\n${text}` : text).slice(0, 4096);
}
