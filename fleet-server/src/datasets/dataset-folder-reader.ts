/**
 * @module datasets/dataset-folder-reader
 * Reads and checks a dataset folder (protocol's dataset.ts describes it) before anything of it
 * is stored: every label line and every image is looked at, and all problems found are reported
 * together, with line numbers, so a folder is fixed in one go instead of one error at a time.
 *
 * Accepted: labels.jsonl (one item per line), or — for data collected elsewhere — labels.csv
 * with at least `file,label` (optional `split`, `device_id`, `ts`). manifest.json is optional;
 * when present it must be valid and its id must match the content (an edited export is new
 * content: remove its manifest.json). Items without a split get splitOf(sha256) under the
 * manifest's ratios (or the default ones).
 */
import { createHash } from 'node:crypto';
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import {
  DATASET_FILES,
  DEFAULT_SPLIT_RATIOS,
  datasetContentId,
  datasetItemSchema,
  datasetManifestSchema,
  describeZodError,
  splitOf,
  type DatasetItem,
  type DatasetManifest,
  type SplitRatios,
} from '@edgeloop/protocol';
import { RegistryError } from '../registry/model-registry.js';
import type { DatasetItemRow } from '../store/fleet-store.js';

/** Problems quoted in the error; the rest are counted. */
const SHOWN_PROBLEMS = 8;

export interface FolderItem extends DatasetItemRow {
  /** Where the bytes are on disk. */
  path: string;
}

export interface DatasetFolder {
  manifest: DatasetManifest | undefined;
  ratios: SplitRatios;
  /** One per distinct image, in label-file order. */
  items: FolderItem[];
  /** Lines naming an image (same bytes) already listed with the same label. */
  duplicates: number;
  /** The id the content has (the manifest's, when it has one). */
  id: string;
}

/** A problem and the line it is on (0: the folder or manifest), so the report reads top to bottom. */
type Problem = [line: number, text: string];

interface LabelLine {
  line: number;
  item: DatasetItem;
}

/** The content type of an image from its first bytes, else from its extension. */
export function contentTypeOf(bytes: Uint8Array, file: string): string {
  const b = bytes;
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (
    Buffer.from(b.subarray(0, 4)).toString('latin1') === 'RIFF' &&
    Buffer.from(b.subarray(8, 12)).toString('latin1') === 'WEBP'
  )
    return 'image/webp';
  const ext = /\.([a-z0-9]+)$/i.exec(file)?.[1]?.toLowerCase();
  if (ext === 'jpg' || ext === 'jpeg') return 'image/jpeg';
  if (ext === 'png') return 'image/png';
  if (ext === 'webp') return 'image/webp';
  return 'application/octet-stream';
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Splits one CSV line; fields may be quoted ("a,b" and "" for a quote). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out.map((f) => f.trim());
}

function parseJsonl(text: string, problems: Problem[]): LabelLine[] {
  const lines: LabelLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      problems.push([line, `${DATASET_FILES.labels} line ${line}: not JSON (${(err as Error).message})`]);
      return;
    }
    const parsed = datasetItemSchema.safeParse(value);
    if (parsed.success) lines.push({ line, item: parsed.data });
    else problems.push([line, `${DATASET_FILES.labels} line ${line}: ${describeZodError(parsed.error)}`]);
  });
  return lines;
}

function parseCsv(text: string, problems: Problem[]): LabelLine[] {
  // A spreadsheet's byte-order mark would otherwise be part of the first column's name.
  const rows = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = csvFields(rows[0] ?? '').map((h) => h.toLowerCase());
  const col = (name: string) => header.indexOf(name);
  if (col('file') < 0 || col('label') < 0) {
    problems.push([1, `${DATASET_FILES.labelsCsv} line 1: the header must name at least the columns file,label`]);
    return [];
  }
  const lines: LabelLine[] = [];
  for (let i = 1; i < rows.length; i++) {
    const raw = rows[i]!;
    if (raw.trim() === '') continue;
    const f = csvFields(raw);
    const get = (name: string) => (col(name) >= 0 ? f[col(name)] : undefined) || undefined;
    const number = (name: string) => {
      const v = get(name);
      return v === undefined ? undefined : /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v) ? Number(v) : v;
    };
    const candidate = {
      file: get('file'),
      label: number('label'),
      ...(get('split') !== undefined ? { split: get('split') } : {}),
      ...(get('device_id') !== undefined ? { deviceId: get('device_id') } : {}),
      ...(get('ts') !== undefined ? { ts: number('ts') } : {}),
    };
    const parsed = datasetItemSchema.safeParse(candidate);
    if (parsed.success) lines.push({ line: i + 1, item: parsed.data });
    else problems.push([i + 1, `${DATASET_FILES.labelsCsv} line ${i + 1}: ${describeZodError(parsed.error)}`]);
  }
  return lines;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep);
}

/**
 * Checks the whole folder; throws a RegistryError (400) listing the first problems when anything
 * is wrong. Reads every image once (to hash it); nothing is stored.
 */
export async function readDatasetFolder(
  dir: string,
  onProgress?: (done: number, total: number) => void,
): Promise<DatasetFolder> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory())
    throw new RegistryError(400, `${dir} is not a folder; give the dataset folder (manifest.json, labels, images/)`);
  const root = await realpath(dir);
  const problems: Problem[] = [];

  let manifest: DatasetManifest | undefined;
  const manifestText = await readOptional(join(root, DATASET_FILES.manifest));
  if (manifestText !== undefined) {
    try {
      const parsed = datasetManifestSchema.safeParse(JSON.parse(manifestText));
      if (parsed.success) manifest = parsed.data;
      else problems.push([0, `${DATASET_FILES.manifest}: ${describeZodError(parsed.error)}`]);
    } catch (err) {
      problems.push([0, `${DATASET_FILES.manifest}: not JSON (${(err as Error).message})`]);
    }
  }
  const ratios = manifest?.split.ratios ?? DEFAULT_SPLIT_RATIOS;

  const jsonl = await readOptional(join(root, DATASET_FILES.labels));
  const csv = jsonl === undefined ? await readOptional(join(root, DATASET_FILES.labelsCsv)) : undefined;
  if (jsonl === undefined && csv === undefined)
    throw new RegistryError(
      400,
      `${dir} has neither ${DATASET_FILES.labels} nor ${DATASET_FILES.labelsCsv}; add labels (one "file,label" line per image)`,
    );
  const labelFile = jsonl !== undefined ? DATASET_FILES.labels : DATASET_FILES.labelsCsv;
  const lines = jsonl !== undefined ? parseJsonl(jsonl, problems) : parseCsv(csv!, problems);
  if (lines.length === 0 && problems.length === 0) problems.push([0, `${labelFile}: no items; add one line per image`]);

  const items: FolderItem[] = [];
  const seen = new Map<string, { line: number; label: number }>();
  let duplicates = 0;
  let done = 0;
  for (const { line, item } of lines) {
    onProgress?.(done, lines.length);
    done++;
    const where = `${labelFile} line ${line}`;
    const path = join(root, item.file);
    const entry = await lstat(path).catch(() => undefined);
    if (!entry) {
      problems.push([line, `${where}: image ${item.file} is missing`]);
      continue;
    }
    const real = await realpath(path).catch(() => path);
    if (!inside(root, real) || !(await stat(real)).isFile()) {
      problems.push([line, `${where}: ${item.file} is not a file inside the dataset folder`]);
      continue;
    }
    const bytes = await readFile(real);
    if (bytes.length === 0) {
      problems.push([line, `${where}: image ${item.file} is empty`]);
      continue;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (item.sha256 !== undefined && item.sha256 !== sha256) {
      problems.push([
        line,
        `${where}: ${item.file} has sha256 ${sha256}, the line says ${item.sha256} (changed or wrong file)`,
      ]);
      continue;
    }
    const before = seen.get(sha256);
    if (before) {
      if (before.label === item.label) duplicates++;
      else
        problems.push([
          line,
          `${where}: ${item.file} has the same bytes as line ${before.line} but another label (${item.label} vs ${before.label})`,
        ]);
      continue;
    }
    seen.set(sha256, { line, label: item.label });
    const { file: _file, split, ...rest } = item;
    items.push({
      ...rest,
      sha256,
      split: split ?? splitOf(sha256, ratios),
      contentType: contentTypeOf(bytes, item.file),
      path: real,
    });
  }
  onProgress?.(done, lines.length);

  const id = items.length > 0 ? datasetContentId(items) : '';
  if (manifest && problems.length === 0 && manifest.id !== id)
    problems.push([
      0,
      `${DATASET_FILES.manifest}: id ${manifest.id} does not match the content (${id}): labels or images changed since it was written; remove manifest.json to import the folder as new content`,
    ]);
  if (problems.length > 0) {
    problems.sort((a, b) => a[0] - b[0]);
    const shown = problems
      .slice(0, SHOWN_PROBLEMS)
      .map(([, text]) => text)
      .join('; ');
    const more = problems.length > SHOWN_PROBLEMS ? `; and ${problems.length - SHOWN_PROBLEMS} more` : '';
    throw new RegistryError(
      400,
      `${dir} cannot be imported, ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${shown}${more}. Fix them and import again (nothing was stored)`,
    );
  }
  return { manifest, ratios, items, duplicates, id };
}
