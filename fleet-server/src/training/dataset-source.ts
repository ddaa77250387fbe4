/**
 * @module training/dataset-source
 * What training and the lineage walk need from the dataset snapshots: a manifest by id, and the
 * snapshot written out as a dataset folder (protocol's dataset.ts) for a trainer to read. The
 * dataset service implements it; tests hand in folders (training-fixtures.ts).
 */
import type { DatasetManifest } from '@edgeloop/protocol';

export interface DatasetSource {
  get(id: string): Promise<DatasetManifest | undefined>;
  /** Writes the snapshot as a dataset folder into `dir` (empty or absent) and returns its manifest. */
  exportTo(id: string, dir: string): Promise<DatasetManifest>;
}
