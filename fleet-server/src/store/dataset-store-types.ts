/**
 * @module store/dataset-store-types
 * The store's side of dataset snapshots: the `datasets` repository (datasets, dataset_items) and
 * the sample selection a snapshot is made from (SampleRepository.forDataset).
 */
import type { DatasetManifest, SampleSummary, SnapshotItem } from '@edgeloop/protocol';

/** Which samples a dataset snapshot is made from; criteria combine with AND. */
export interface SampleSelection {
  model?: string;
  version?: number;
  /** Only these devices (an empty list selects nothing). */
  devices?: readonly string[];
  /** Capture time window [from, to), ms. */
  from?: number;
  to?: number;
  reasons?: readonly string[];
  /** Leaves out samples made by these versions (with `model`: of that model). */
  excludeVersions?: readonly number[];
}

/** A sample with its reference value joined and its record's monitoring features (null: none). */
export type DatasetSample = SampleSummary & { features: Record<string, number> | null };

/** A dataset snapshot as stored: the manifest is the one the service built and checked. */
export interface DatasetRecord {
  id: string;
  name: string | null;
  description: string | null;
  createdAt: number;
  itemCount: number;
  manifest: DatasetManifest;
}

export type NewDataset = Omit<DatasetRecord, 'itemCount'>;

/** An item of a snapshot (no `file`: it is images/<sha256>.<ext of contentType>). */
export type DatasetItemRow = Omit<SnapshotItem, 'file'> & { contentType: string };

export interface DatasetRepository {
  /** Stores the snapshot and its items atomically; false, storing nothing, when the id exists. */
  insert(dataset: NewDataset, items: readonly DatasetItemRow[]): Promise<boolean>;
  get(id: string): Promise<DatasetRecord | undefined>;
  /** Newest first. */
  list(): Promise<DatasetRecord[]>;
  /** Items by sha256, after the cursor `after` (a sha256), at most `limit` (≤ 10,000). */
  items(id: string, q?: { after?: string; limit?: number }): Promise<DatasetItemRow[]>;
  item(id: string, sha256: string): Promise<DatasetItemRow | undefined>;
  /** Removes the snapshot and its items; false when there is none. */
  remove(id: string): Promise<boolean>;
}
