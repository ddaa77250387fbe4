/**
 * @module dataset-hash
 * A dataset snapshot's content id: sha256 over its items' (image hash, label, split) lines,
 * sorted, so the id names exactly what a trainer sees, independent of file names, item order,
 * provenance fields and when or where the snapshot was made.
 */
import { createHash } from 'node:crypto';
import type { SnapshotItem } from './dataset.js';

export function datasetContentId(items: readonly Pick<SnapshotItem, 'sha256' | 'label' | 'split'>[]): string {
  const lines = items.map((i) => `${i.sha256}\t${JSON.stringify(i.label)}\t${i.split}\n`).sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line);
  return `ds-${hash.digest('hex').slice(0, 24)}`;
}
