/**
 * @module datasets/dataset-folder-writer
 * Writes a snapshot as the plain dataset folder: images/<sha256>.<ext>, labels.jsonl (sorted by
 * file), labels.csv and, last, manifest.json — a folder with a manifest is complete, so a copy
 * cut short is recognisable. Only a new or empty folder is written into: an export never mixes
 * with other files or overwrites a different dataset.
 *
 * The bytes come from a callback, so the server (from its blob store) and the CLI (over REST)
 * write exactly the same folder.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DATASET_FILES, type DatasetManifest, type SnapshotItem } from '@edgeloop/protocol';
import { RegistryError } from '../registry/model-registry.js';

/** Images fetched and written at once. */
const IMAGES_AT_ONCE = 8;

export interface FolderSink {
  manifest: DatasetManifest;
  /** In file order (sha256 order is file order: images/<sha256>.<ext>). */
  items: AsyncIterable<SnapshotItem>;
  /** The image's bytes. */
  open(item: SnapshotItem): Promise<Readable>;
  onProgress?: (done: number, total: number) => void;
}

/** `a,b` and quotes stay one CSV field. */
function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Refuses a folder with anything in it; creates it (and its parents) when missing. */
export async function prepareExportFolder(dir: string): Promise<void> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    if (err.code === 'ENOTDIR')
      throw new RegistryError(400, `${dir} is a file; give a new or empty folder to export into`);
    throw err;
  });
  if (entries.length > 0)
    throw new RegistryError(409, `${dir} is not empty; give a new or empty folder to export into`);
  await mkdir(join(dir, DATASET_FILES.images), { recursive: true });
}

export async function writeDatasetFolder(dir: string, sink: FolderSink): Promise<DatasetManifest> {
  await prepareExportFolder(dir);
  const jsonl = createWriteStream(join(dir, DATASET_FILES.labels));
  const csv = createWriteStream(join(dir, DATASET_FILES.labelsCsv));
  const write = async (stream: NodeJS.WritableStream, text: string) => {
    if (!stream.write(text)) await once(stream, 'drain');
  };
  try {
    await write(csv, 'file,label,split,device_id,ts\n');
    const total = sink.manifest.counts.total;
    let done = 0;
    // Images in small batches at once (each waits on a download or a disk), label lines in order.
    const flush = async (batch: SnapshotItem[]) => {
      await Promise.all(
        batch.map(async (item) => {
          // Written beside its final name, then renamed: a half-written image never has one.
          const target = join(dir, item.file);
          await pipeline(await sink.open(item), createWriteStream(`${target}.part`));
          await rename(`${target}.part`, target);
        }),
      );
      for (const item of batch) {
        await write(jsonl, `${JSON.stringify(item)}\n`);
        await write(csv, `${[item.file, item.label, item.split, item.deviceId, item.ts].map(csvField).join(',')}\n`);
      }
      done += batch.length;
      sink.onProgress?.(done, total);
    };
    let batch: SnapshotItem[] = [];
    for await (const item of sink.items) {
      batch.push(item);
      if (batch.length === IMAGES_AT_ONCE) {
        await flush(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await flush(batch);
    if (done !== total)
      throw new RegistryError(400, `the dataset lists ${total} items but ${done} were written; export it again`);
  } finally {
    jsonl.end();
    csv.end();
    await Promise.all([once(jsonl, 'close'), once(csv, 'close')]);
  }
  await writeFile(join(dir, DATASET_FILES.manifest), `${JSON.stringify(sink.manifest, null, 2)}\n`);
  return sink.manifest;
}
