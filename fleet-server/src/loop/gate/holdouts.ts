/**
 * @module loop/gate/holdouts
 * The two holdouts a loop run's challenger is judged on, read from the dataset snapshots:
 *
 * - recent: the new dataset's holdout split, without the items the champion trained on. The loop's
 *   datasets mix in a share of the champion's training data so nothing is forgotten; those items
 *   are old data and must not count as recent.
 * - original: the holdout split of the champion's own training dataset (its lineage), where the
 *   challenger must not be much worse. null, with the reason, when the champion names no dataset
 *   or the snapshot is gone.
 *
 * Items come in sha256 order, which is a hash order: capping a side at maxItems keeps an unbiased
 * sample of it. Their images are the sample store's blobs (writeHoldoutImages).
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../store/blobs/blob-store.js';
import type { DatasetItemRow, FleetStore, ModelVersionRecord } from '../../store/fleet-store.js';
import { itemFile } from '../../datasets/folder-items.js';

export interface HoldoutItem {
  sha256: string;
  label: number;
  contentType: string;
}

export interface LoopHoldouts {
  recent: HoldoutItem[];
  /** Holdout items of the new dataset left out because the champion trained on them. */
  recentExcluded: number;
  /** Why `recent` is empty, when it is. */
  recentMissing?: string;
  /** null: there is no original holdout (`originalMissing` says why). */
  original: HoldoutItem[] | null;
  originalDatasetId: string | null;
  originalMissing?: string;
}

export interface HoldoutQuery {
  /** The serving version the challenger is compared with. */
  champion: Pick<ModelVersionRecord, 'name' | 'version'>;
  /** The snapshot the challenger was trained on. */
  newDatasetId: string;
  /** At most this many items per side (default 5000). */
  maxItems?: number;
}

export const DEFAULT_MAX_HOLDOUT_ITEMS = 5000;
const PAGE = 1000;

export async function loopHoldouts(store: FleetStore, q: HoldoutQuery): Promise<LoopHoldouts> {
  const max = q.maxItems ?? DEFAULT_MAX_HOLDOUT_ITEMS;
  if (!(await store.datasets.get(q.newDatasetId)))
    throw new Error(`no dataset ${q.newDatasetId} to take the recent holdout from; edgeloop datasets list shows them`);
  const origin = await championDataset(store, q.champion);
  const originalId = origin.datasetId !== undefined && origin.missing === undefined ? origin.datasetId : null;

  const recent: HoldoutItem[] = [];
  let recentExcluded = 0;
  let newHoldout = 0;
  for await (const row of holdoutRows(store, q.newDatasetId)) {
    newHoldout++;
    // The champion's training data, of any split, is not recent; its holdout counts on the original side.
    if (originalId !== null && (await store.datasets.item(originalId, row.sha256))) {
      recentExcluded++;
      continue;
    }
    if (recent.length < max) recent.push(holdoutItem(row));
  }

  let original: HoldoutItem[] | null = null;
  if (originalId !== null) {
    original = [];
    for await (const row of holdoutRows(store, originalId)) {
      original.push(holdoutItem(row));
      if (original.length >= max) break;
    }
  }

  const recentMissing =
    recent.length > 0
      ? undefined
      : newHoldout === 0
        ? `the new dataset ${q.newDatasetId} has no holdout items`
        : `all ${newHoldout} holdout items of the new dataset ${q.newDatasetId} are in the champion's training data`;
  const originalMissing =
    original === null
      ? origin.missing
      : original.length === 0
        ? `the champion's training dataset ${originalId} has no holdout items`
        : undefined;
  return {
    recent,
    recentExcluded,
    ...(recentMissing ? { recentMissing } : {}),
    original: original && original.length > 0 ? original : null,
    originalDatasetId: originalId,
    ...(originalMissing ? { originalMissing } : {}),
  };
}

/**
 * The snapshot the champion was trained on: its lineage's dataset, or its training run's. A
 * re-release (a rollback) is an earlier version's artifact under a new number, so its origin is
 * that version's, as the lineage walk follows it.
 */
async function championDataset(
  store: FleetStore,
  champion: HoldoutQuery['champion'],
): Promise<{ datasetId?: string; missing?: string }> {
  const named = `${champion.name} v${champion.version}`;
  const row = await store.models.get(champion.name, champion.version);
  if (!row) return { missing: `${named} is not registered on this server` };
  let origin = row;
  while (!origin.lineage.trainingRunId && !origin.lineage.datasetId && origin.lineage.parent !== undefined) {
    const parent = await store.models.get(champion.name, origin.lineage.parent);
    if (!parent || parent.sha256 !== origin.sha256 || parent.version >= origin.version) break;
    origin = parent;
  }
  const runId = origin.lineage.trainingRunId;
  const datasetId = origin.lineage.datasetId ?? (runId ? (await store.training.getRun(runId))?.datasetId : undefined);
  if (datasetId === undefined) return { missing: `${named} names no training dataset` };
  if (!(await store.datasets.get(datasetId)))
    return { datasetId, missing: `${named}'s training dataset ${datasetId} is no longer on this server` };
  return { datasetId };
}

async function* holdoutRows(store: FleetStore, datasetId: string): AsyncGenerator<DatasetItemRow> {
  let after: string | undefined;
  for (;;) {
    const page = await store.datasets.items(datasetId, { ...(after ? { after } : {}), limit: PAGE });
    for (const row of page) if (row.split === 'holdout') yield row;
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.sha256;
  }
}

function holdoutItem(row: DatasetItemRow): HoldoutItem {
  return { sha256: row.sha256, label: row.label, contentType: row.contentType };
}

/**
 * Writes each item's image from the sample store into `dir` (as images/<sha256>.<ext>, the dataset
 * folder's names) and answers the path of each, relative to `dir`, keyed by sha256.
 */
export async function writeHoldoutImages(
  blobs: BlobStore,
  items: Iterable<HoldoutItem>,
  dir: string,
): Promise<Map<string, string>> {
  await mkdir(join(dir, 'images'), { recursive: true });
  const files = new Map<string, string>();
  for (const item of items) {
    if (files.has(item.sha256)) continue;
    const file = itemFile(item);
    const stream = await blobs.stream(item.sha256);
    if (!stream)
      throw new Error(
        `image ${item.sha256} of a holdout is missing from the sample store; restore the data directory's samples folder from a backup`,
      );
    await pipeline(stream, createWriteStream(join(dir, file)));
    files.set(item.sha256, file);
  }
  return files;
}
