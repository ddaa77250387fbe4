/**
 * @module train/dataset-reader
 * Reads a dataset folder (protocol's dataset.ts) for a trainer: every labels.jsonl line checked
 * against the item schema, every image present and, where the line names its sha256, unchanged.
 * Problems are collected and reported together, each naming the line and the file, so a broken
 * export is fixed in one go instead of one crash at a time.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DATASET_FILES,
  DEFAULT_SPLIT_RATIOS,
  datasetManifestSchema,
  datasetItemSchema,
  splitOf,
  type DatasetManifest,
  type DatasetSplit,
  type SplitRatios,
} from '@edgeloop/protocol';

/** A dataset folder a trainer cannot use; the message says what is wrong and where. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

export interface LoadedItem {
  /** 1-based line in labels.jsonl, for messages. */
  readonly line: number;
  readonly file: string;
  readonly label: number;
  readonly split: DatasetSplit;
  readonly sha256: string;
  readonly bytes: Uint8Array;
}

export interface LoadedDataset {
  readonly dir: string;
  readonly manifest: DatasetManifest | undefined;
  readonly items: readonly LoadedItem[];
}

/** Problems listed in one error before the rest are only counted. */
const MAX_LISTED = 10;

export async function readDataset(dir: string): Promise<LoadedDataset> {
  const manifest = await readManifest(dir);
  const ratios: SplitRatios = manifest?.split.ratios ?? DEFAULT_SPLIT_RATIOS;
  const labelsPath = path.join(dir, DATASET_FILES.labels);
  let text: string;
  try {
    text = await readFile(labelsPath, 'utf8');
  } catch (err) {
    throw new DatasetError(
      `cannot read ${labelsPath} (${codeOf(err)}): a dataset folder needs labels.jsonl, one {"file","label"} object per line; export one with \`edgeloop datasets export\``,
    );
  }

  const problems: string[] = [];
  const items: LoadedItem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const where = `${DATASET_FILES.labels} line ${i + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      problems.push(`${where}: not valid JSON`);
      continue;
    }
    const parsed = datasetItemSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((e) => `${e.path.join('.') || 'item'}: ${e.message}`).join('; ');
      problems.push(`${where}: ${issues}`);
      continue;
    }
    const item = parsed.data;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path.join(dir, item.file));
    } catch (err) {
      problems.push(
        `${where}: image ${item.file} ${codeOf(err) === 'ENOENT' ? 'is missing' : `unreadable (${codeOf(err)})`}`,
      );
      continue;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (item.sha256 !== undefined && item.sha256 !== sha256) {
      problems.push(`${where}: image ${item.file} does not match its sha256 (the file changed after export)`);
      continue;
    }
    items.push({
      line: i + 1,
      file: item.file,
      label: item.label,
      split: item.split ?? splitOf(sha256, ratios),
      sha256,
      bytes,
    });
  }

  if (problems.length > 0) {
    const listed = problems.slice(0, MAX_LISTED).join('\n  ');
    const more = problems.length > MAX_LISTED ? `\n  … and ${problems.length - MAX_LISTED} more` : '';
    throw new DatasetError(
      `dataset ${dir} has ${problems.length} bad item(s); fix or remove these lines (or re-export the dataset):\n  ${listed}${more}`,
    );
  }
  if (items.length === 0) throw new DatasetError(`dataset ${dir}: ${DATASET_FILES.labels} lists no items`);
  for (const split of ['train', 'validation'] as const) {
    if (!items.some((i) => i.split === split)) {
      throw new DatasetError(
        `dataset ${dir} has no ${split} items (${items.length} in all): add data, or change the split ratios when creating it`,
      );
    }
  }
  return { dir, manifest, items };
}

async function readManifest(dir: string): Promise<DatasetManifest | undefined> {
  const file = path.join(dir, DATASET_FILES.manifest);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return undefined;
    throw new DatasetError(`cannot read ${file} (${codeOf(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DatasetError(`${file} is not valid JSON: re-export the dataset or remove the file`);
  }
  const parsed = datasetManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((e) => `${e.path.join('.') || 'manifest'}: ${e.message}`).join('; ');
    throw new DatasetError(`${file} is not a dataset manifest (${issues}): re-export the dataset or remove the file`);
  }
  return parsed.data;
}

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}
