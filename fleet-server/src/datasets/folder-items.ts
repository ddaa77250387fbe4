/**
 * @module datasets/folder-items
 * Items as the dataset folder names them (images/<sha256>.<ext>); the manifest itself is built
 * by protocol's buildDatasetManifest, shared with the simulator's generated folders.
 */
import { imageExtension, type SnapshotItem } from '@edgeloop/protocol';
import type { DatasetItemRow } from '../store/fleet-store.js';

/** The file an item has in the dataset folder: its bytes' hash, with the extension of its type. */
export function itemFile(item: Pick<DatasetItemRow, 'sha256' | 'contentType'>): string {
  return `images/${item.sha256}.${imageExtension(item.contentType)}`;
}

/** The item as labels.jsonl has it: the folder's file name instead of the content type. */
export function snapshotItem(row: DatasetItemRow): SnapshotItem {
  const { contentType, ...rest } = row;
  return { file: itemFile({ sha256: row.sha256, contentType }), ...rest };
}
