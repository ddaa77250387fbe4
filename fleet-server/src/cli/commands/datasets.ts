/**
 * @module cli/commands/datasets
 * Dataset snapshots: `create` from the samples devices uploaded (by model, devices, group, time
 * window, reason), `list`, `show`, `export` as the plain dataset folder a trainer or any other
 * tool reads, `import` of such a folder (or of a labels.csv with images from elsewhere), and
 * `delete`. Export and import move one image per request and report their progress.
 *
 * An import is checked whole on this machine first (every label line, every image): a bad
 * folder is refused before a byte is sent.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { DatasetCreateRequest, DatasetManifest, DatasetSelection, SplitRatios } from '@edgeloop/protocol';
import { CliError, uploadTimeoutMs } from '../api-client.js';
import {
  UsageError,
  listFlag,
  parsePositiveInt,
  printJson,
  rejectOperands,
  stringFlag,
  type CliIo,
  type CommandContext,
  type CommandTable,
  type Flags,
} from '../command.js';
import { formatRelativeTime, formatTimestamp, renderTable } from '../format.js';
import { readDatasetFolder } from '../../datasets/dataset-folder-reader.js';
import { writeDatasetFolder } from '../../datasets/dataset-folder-writer.js';
import { RegistryError } from '../../registry/model-registry.js';

const UPLOADS_IN_FLIGHT = 4;
/** Hashes per "which are missing" question. */
const MISSING_QUERY = 10_000;

/** `2026-03-01`, `2026-03-01T12:00:00Z` or milliseconds since the epoch. */
export function parseTime(raw: string, flag: string): number {
  if (/^\d+$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms))
    throw new UsageError(`${flag} must be a date such as 2026-03-01 or 2026-03-01T12:00:00Z, got "${raw}"`);
  return ms;
}

/** `80/10/10` → train 80, validation 10, holdout 10. */
export function parseSplit(raw: string): SplitRatios {
  const m = /^(\d{1,3})\/(\d{1,3})\/(\d{1,3})$/.exec(raw);
  const [train, validation, holdout] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [NaN, NaN, NaN];
  if (!m || train + validation + holdout !== 100)
    throw new UsageError(
      `--split takes train/validation/holdout percentages adding up to 100, e.g. 80/10/10, got "${raw}"`,
    );
  return { train, validation, holdout };
}

/** The create request the flags describe. */
export function createRequest(flags: Flags): DatasetCreateRequest {
  const selection: DatasetSelection = {};
  const model = stringFlag(flags, 'model');
  if (model !== undefined) selection.model = model;
  const version = stringFlag(flags, 'version');
  if (version !== undefined) selection.version = parsePositiveInt(version, '--version');
  const devices = listFlag(flags, 'device');
  if (devices.length > 0) selection.devices = devices;
  const group = stringFlag(flags, 'group');
  if (group !== undefined) selection.group = group;
  const from = stringFlag(flags, 'from');
  if (from !== undefined) selection.from = parseTime(from, '--from');
  const to = stringFlag(flags, 'to');
  if (to !== undefined) selection.to = parseTime(to, '--to');
  // Comma-separated: --reason is a single value on other commands (a status change's reason).
  const reasons = (stringFlag(flags, 'reason') ?? '').split(',').filter((r) => r.trim() !== '');
  if (reasons.length > 0) selection.reasons = reasons.map((r) => r.trim());
  const include = listFlag(flags, 'include');
  if (include.length > 0) selection.include = include;
  const limit = stringFlag(flags, 'limit');
  if (limit !== undefined) selection.limit = parsePositiveInt(limit, '--limit');
  const split = stringFlag(flags, 'split');
  return { selection, ...naming(flags), ...(split !== undefined ? { splitRatios: parseSplit(split) } : {}) };
}

function naming(flags: Flags): { name?: string; description?: string } {
  const name = stringFlag(flags, 'name');
  const description = stringFlag(flags, 'description');
  return { ...(name !== undefined ? { name } : {}), ...(description !== undefined ? { description } : {}) };
}

const splits = (m: DatasetManifest) => `${m.counts.train}/${m.counts.validation}/${m.counts.holdout}`;
const labelRange = (m: DatasetManifest) => `${round(m.label.min)}…${round(m.label.max)}`;
const round = (n: number) => String(Math.round(n * 100) / 100);

function describeOutcome(
  io: CliIo,
  verb: string,
  o: { dataset: DatasetManifest; created: boolean; skipped: Record<string, number> },
): void {
  const m = o.dataset;
  io.out(
    o.created
      ? `${verb} dataset ${m.id}: ${m.counts.total} items (train/validation/holdout ${splits(m)}), labels ${labelRange(m)}, from ${m.sources.length} source${m.sources.length === 1 ? '' : 's'}`
      : `the same content is dataset ${m.id} already (${m.counts.total} items); nothing new was stored`,
  );
  const { noReference = 0, noBytes = 0, duplicates = 0 } = o.skipped;
  const left = [
    noReference ? `${noReference} without a reference` : '',
    noBytes ? `${noBytes} whose bytes are missing` : '',
    duplicates ? `${duplicates} duplicate images` : '',
  ].filter(Boolean);
  if (left.length > 0) io.out(`skipped: ${left.join(', ')}`);
}

async function createDataset({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'datasets create');
  const body = await connect().createDataset({ body: createRequest(flags) });
  if (flags.json) return printJson(io, body);
  describeOutcome(io, 'created', body);
}

async function listDatasets({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'datasets list');
  const body = await connect().listDatasets();
  if (flags.json) return printJson(io, body);
  if (body.datasets.length === 0)
    return io.out('no datasets yet; make one from uploaded samples with: edgeloop datasets create --model <name>');
  const rows = body.datasets.map((m) => [
    m.id,
    m.name ?? '',
    String(m.counts.total),
    splits(m),
    labelRange(m),
    m.origin.kind,
    formatRelativeTime(m.createdAt),
  ]);
  io.out(renderTable(['ID', 'NAME', 'ITEMS', 'TRAIN/VAL/HOLD', 'LABELS', 'ORIGIN', 'CREATED'], rows));
}

function oneId(operands: string[], command: string): string {
  const [id, ...extra] = operands;
  if (id === undefined || extra.length > 0)
    throw new UsageError(`datasets ${command} takes one dataset id, e.g. edgeloop datasets ${command} ds-…`);
  return id;
}

async function showDataset({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const id = oneId(operands, 'show');
  const body = await connect().getDataset({ params: { id } });
  if (flags.json) return printJson(io, body);
  const m = body.dataset;
  const lines = [
    `${m.id}${m.name ? `  ${m.name}` : ''}`,
    ...(m.description ? [`  description  ${m.description}`] : []),
    `  created      ${formatTimestamp(m.createdAt)} (${m.origin.kind}${m.origin.kind === 'import' && m.origin.from ? ` from ${m.origin.from}` : ''})`,
    `  items        ${m.counts.total}: train ${m.counts.train}, validation ${m.counts.validation}, holdout ${m.counts.holdout} (split by sha256, ${m.split.ratios.train}/${m.split.ratios.validation}/${m.split.ratios.holdout})`,
    `  labels       ${labelRange(m)}, mean ${round(m.label.mean)}, std ${round(m.label.std)}`,
    `  features     ${Object.keys(m.features).join(', ') || 'none'}`,
    `  content      ${Object.entries(m.contentTypes)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ')}`,
    `  used by      ${body.usedBy.map((u) => `${u.name}@${u.version}`).join(', ') || 'no model version (it can be deleted)'}`,
    '  sources',
    ...m.sources.map(
      (s) =>
        `    ${s.deviceId ?? '(no device)'}  ${s.count} items${s.from !== null && s.to !== null ? `, ${formatTimestamp(s.from)} … ${formatTimestamp(s.to)}` : ''}`,
    ),
  ];
  io.out(lines.join('\n'));
}

/** Prints "<verb> n/total" about every tenth of the way (and at the end). */
function progress(io: CliIo, verb: string, quiet: boolean): (done: number, total: number) => void {
  let shown = -1;
  return (done, total) => {
    if (quiet) return;
    const step = Math.floor((done / Math.max(total, 1)) * 10);
    if (step === shown && done !== total) return;
    shown = step;
    io.out(`${verb} ${done}/${total}`);
  };
}

async function exportDataset({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [id, dir, ...extra] = operands;
  if (id === undefined || dir === undefined || extra.length > 0)
    throw new UsageError('datasets export takes a dataset id and a folder, e.g. edgeloop datasets export ds-… ./data');
  const client = connect();
  const { dataset } = await client.getDataset({ params: { id } });
  const items = (async function* () {
    let after: string | undefined;
    for (;;) {
      const page = await client.listDatasetItems({
        params: { id },
        query: { limit: 1000, ...(after ? { after } : {}) },
      });
      yield* page.items;
      if (page.next === null) return;
      after = page.next;
    }
  })();
  const written = await writeDatasetFolder(dir, {
    manifest: dataset,
    items,
    open: async (item) => {
      const res = await client.getDatasetFile({ params: { id, sha256: item.sha256! } }, { timeoutMs: 60_000 });
      return Readable.fromWeb(res.body! as WebReadableStream<Uint8Array>);
    },
    onProgress: progress(io, 'downloaded', flags.json === true),
  }).catch(rethrowLocal);
  if (flags.json) return printJson(io, { dataset: written, dir: resolve(dir) });
  io.out(`exported ${written.id} (${written.counts.total} items) to ${resolve(dir)}`);
}

async function importDataset({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [dir, ...extra] = operands;
  if (dir === undefined || extra.length > 0)
    throw new UsageError('datasets import takes one folder, e.g. edgeloop datasets import ./data');
  const quiet = flags.json === true;
  const folder = await readDatasetFolder(dir, progress(io, 'checked', quiet)).catch(rethrowLocal);
  const client = connect();
  // Only what the server lacks: importing a folder again, or after an interruption, sends nothing twice.
  const wanted = new Set<string>();
  for (let i = 0; i < folder.items.length; i += MISSING_QUERY) {
    const chunk = folder.items.slice(i, i + MISSING_QUERY).map((it) => it.sha256);
    for (const sha256 of (await client.findMissingDatasetBlobs({ body: { sha256: chunk } })).missing)
      wanted.add(sha256);
  }
  const toSend = folder.items.filter((it) => wanted.has(it.sha256));
  if (!quiet && toSend.length < folder.items.length)
    io.out(`${folder.items.length - toSend.length} of ${folder.items.length} images are on the server already`);
  const uploaded = progress(io, 'uploaded', quiet || toSend.length === 0);
  let done = 0;
  let next = 0;
  // A few uploads in flight: each one waits on the server's fsync of its image.
  const worker = async () => {
    while (next < toSend.length) {
      const item = toSend[next++]!;
      const bytes = await readFile(item.path);
      await client.uploadDatasetBlob(
        { params: { sha256: item.sha256 }, body: { file: new File([new Uint8Array(bytes)], item.sha256) } },
        { timeoutMs: uploadTimeoutMs(bytes.length) },
      );
      uploaded(++done, toSend.length);
    }
  };
  await Promise.all(Array.from({ length: UPLOADS_IN_FLIGHT }, worker));
  const body = await client.importDataset(
    {
      body: {
        items: folder.items.map(({ path: _path, ...item }) => item),
        from: resolve(dir).slice(-1024),
        splitRatios: folder.ratios,
        ...(folder.manifest?.name !== undefined ? { name: folder.manifest.name } : {}),
        ...(folder.manifest?.description !== undefined ? { description: folder.manifest.description } : {}),
        ...naming(flags),
      },
    },
    { timeoutMs: 120_000 },
  );
  if (flags.json) return printJson(io, body);
  describeOutcome(io, 'imported', { ...body, skipped: { ...body.skipped, duplicates: folder.duplicates } });
}

async function deleteDataset({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const id = oneId(operands, 'delete');
  const body = await connect().deleteDataset({ params: { id } });
  if (flags.json) return printJson(io, body);
  io.out(`deleted dataset ${id} (its images stay with the samples)`);
}

/** Folder problems found on this machine are the operator's to fix: printed like a server refusal. */
function rethrowLocal(err: unknown): never {
  if (err instanceof RegistryError) throw new CliError(err.message);
  if ((err as NodeJS.ErrnoException).syscall !== undefined)
    throw new CliError(`${(err as Error).message}; check the folder and its permissions`);
  throw err;
}

export const datasetCommands: CommandTable = {
  'datasets create': {
    synopsis:
      '[--model M [--version V]] [--device ID ...] [--group G] [--from T] [--to T] [--reason R[,R...]] [--include DS ...] [--limit N] [--split 80/10/10] [--name N] [--description D]',
    summary: 'snapshot the uploaded samples with a reference value (the same content twice gives the same dataset)',
    options: {
      model: { type: 'string' },
      version: { type: 'string' },
      device: { type: 'string', multiple: true },
      group: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      reason: { type: 'string' },
      include: { type: 'string', multiple: true },
      limit: { type: 'string' },
      split: { type: 'string' },
      name: { type: 'string' },
      description: { type: 'string' },
    },
    run: createDataset,
  },
  'datasets list': { summary: 'dataset snapshots, newest first', run: listDatasets },
  'datasets show': {
    synopsis: '<id>',
    summary: "a snapshot's manifest: sources, splits, labels, features, the model versions naming it",
    run: showDataset,
  },
  'datasets export': {
    synopsis: '<id> <dir>',
    summary: 'write the snapshot as a plain folder (manifest.json, labels.jsonl, labels.csv, images/)',
    run: exportDataset,
  },
  'datasets import': {
    synopsis: '<dir> [--name N] [--description D]',
    summary: 'import a dataset folder (labels.jsonl or labels.csv + images), checked whole before anything is sent',
    options: { name: { type: 'string' }, description: { type: 'string' } },
    run: importDataset,
  },
  'datasets delete': {
    synopsis: '<id>',
    summary: 'delete a snapshot (refused while a registered model version names it)',
    run: deleteDataset,
  },
};
