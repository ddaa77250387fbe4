/**
 * @module datasets/dataset-service
 * Dataset snapshots: made from uploaded samples joined with their reference values, or imported
 * from a dataset folder; immutable, named by their content (datasetContentId), so making the
 * same content twice gives back the snapshot already stored. Exported as the plain folder a
 * trainer reads.
 *
 * The images are sample blobs (the samples' own bytes, or an import's put beside them): a
 * snapshot only stores rows. Retention: a snapshot that a registered model version's lineage
 * names is never deleted.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  DEFAULT_SPLIT_RATIOS,
  buildDatasetManifest,
  datasetContentId,
  datasetSelectionSchema,
  describeZodError,
  splitOf,
  splitRatiosSchema,
  type DatasetManifest,
  type DatasetSelection,
  type SnapshotItem,
  type SplitRatios,
} from '@edgeloop/protocol';
import { RegistryError } from '../registry/model-registry.js';
import type { BlobStore } from '../store/blobs/blob-store.js';
import type { DatasetItemRow, FleetStore } from '../store/fleet-store.js';
import { readDatasetFolder } from './dataset-folder-reader.js';
import { writeDatasetFolder } from './dataset-folder-writer.js';
import { snapshotItem } from './folder-items.js';

export interface DatasetOptions {
  name?: string | undefined;
  description?: string | undefined;
  splitRatios?: SplitRatios | undefined;
}

/** What a create or import did: the snapshot, whether it is new, and what was left out. */
export interface DatasetOutcome {
  dataset: DatasetManifest;
  created: boolean;
  skipped: { noReference: number; noBytes: number; duplicates: number };
}

/** Where a selection's snapshot items came from: the matched samples, or the included datasets. */
export interface DrawnCounts {
  samples: number;
  included: number;
  /** Distinct devices among the items drawn from samples. */
  sampleDevices: number;
}

/** create with the counts, and a name and description that may say them. */
export interface CountedDatasetOptions extends Omit<DatasetOptions, 'name' | 'description'> {
  name?: string | ((drawn: DrawnCounts) => string) | undefined;
  description?: string | ((drawn: DrawnCounts) => string) | undefined;
}

export type Progress = (done: number, total: number) => void;

const PAGE = 1_000;
/** Problems quoted in one error; the rest are counted. */
const SHOWN = 5;

/** A version's place in the registry, as a retention refusal names it. */
export interface DatasetUser {
  name: string;
  version: number;
}

/** Deterministic rank for `limit`: a hash of the image hash, so the pick does not follow the splits. */
const pickRank = (sha256: string) => createHash('sha256').update(`pick:${sha256}`).digest('hex');

/** At most `n` of the items, the same ones for the same items whatever their order. */
function pick(items: DatasetItemRow[], n: number | undefined): DatasetItemRow[] {
  if (n === undefined || items.length <= n) return items;
  return items
    .map((it) => ({ it, rank: pickRank(it.sha256) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : 1))
    .slice(0, n)
    .map((x) => x.it);
}

function listProblems(problems: readonly string[]): string {
  const more = problems.length > SHOWN ? ` and ${problems.length - SHOWN} more` : '';
  return `${problems.slice(0, SHOWN).join(', ')}${more}`;
}

export class DatasetService {
  constructor(
    private readonly deps: {
      store: FleetStore;
      /** Where images live: the samples' blob store. */
      blobs: BlobStore;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** A snapshot of the samples the selection matches (see datasetSelectionSchema). */
  async create(selection: DatasetSelection, opts: DatasetOptions = {}): Promise<DatasetOutcome> {
    return (await this.createWithCounts(selection, opts)).outcome;
  }

  /**
   * create, also saying how many items came from samples and how many from included datasets;
   * name and description may be functions of those counts (they are known only once drawn).
   */
  async createWithCounts(
    selection: DatasetSelection,
    opts: CountedDatasetOptions = {},
  ): Promise<{ outcome: DatasetOutcome; drawn: DrawnCounts }> {
    const parsed = datasetSelectionSchema.safeParse(selection);
    if (!parsed.success) throw new RegistryError(400, `invalid selection: ${describeZodError(parsed.error)}`);
    const sel = parsed.data;
    const ratios = this.ratios(opts.splitRatios);
    if (sel.from !== undefined && sel.to !== undefined && sel.from >= sel.to)
      throw new RegistryError(400, `the time window is empty (from ${sel.from} is not before to ${sel.to}); widen it`);
    if (sel.excludeVersions !== undefined && sel.model === undefined)
      throw new RegistryError(
        400,
        'excludeVersions names versions of one model: give the model too (versions of different models share numbers)',
      );
    const { store } = this.deps;
    const skipped = { noReference: 0, noBytes: 0, duplicates: 0 };
    const { rows: bySha, matched } = await this.sampleRows(sel, ratios, skipped);
    // With includeLimit the two sources have their own budgets: limit picks among the samples,
    // includeLimit among the included items whose images are not among them.
    const separate = sel.includeLimit !== undefined;
    const selected = separate ? pick([...bySha.values()], sel.limit) : [...bySha.values()];
    const chosen = new Map(selected.map((it) => [it.sha256, it]));
    const included = new Map<string, DatasetItemRow>();
    for (const id of sel.include ?? []) {
      if (!(await store.datasets.get(id)))
        throw new RegistryError(404, `no dataset ${id} to include; see edgeloop datasets list`);
      for await (const item of this.rows(id)) {
        if (separate && chosen.has(item.sha256)) {
          skipped.duplicates++;
          continue;
        }
        if (included.has(item.sha256) || chosen.has(item.sha256)) skipped.duplicates++;
        included.set(item.sha256, item);
      }
    }
    // Included items come in as they are (labels and splits): they were curated already, so
    // (without includeLimit, which skips those) one replaces a sample's row for the same image.
    const fromIncluded = pick([...included.values()], sel.includeLimit);
    for (const item of fromIncluded) chosen.set(item.sha256, item);
    const items = separate ? [...chosen.values()] : pick([...chosen.values()], sel.limit);
    if (items.length === 0)
      throw new RegistryError(
        400,
        `the selection gives no items: ${matched} samples matched, ${skipped.noReference} without a reference value, ${skipped.noBytes} whose bytes are missing; widen the selection (model, devices, group, time window, reasons) or wait until reference values arrive`,
      );
    const includedShas = new Set(fromIncluded.map((it) => it.sha256));
    const sampleItems = items.filter((it) => !includedShas.has(it.sha256));
    const drawn: DrawnCounts = {
      samples: sampleItems.length,
      included: items.length - sampleItems.length,
      sampleDevices: new Set(sampleItems.map((it) => it.deviceId ?? null)).size,
    };
    const outcome = await this.store(
      items,
      { kind: 'selection', selection: sel },
      {
        name: typeof opts.name === 'function' ? opts.name(drawn) : opts.name,
        description: typeof opts.description === 'function' ? opts.description(drawn) : opts.description,
        splitRatios: ratios,
      },
      skipped,
    );
    return { outcome, drawn };
  }

  /** The selection's samples with a reference value and stored bytes, one row per image; what was left out is counted in `skipped`. */
  private async sampleRows(
    sel: DatasetSelection,
    ratios: SplitRatios,
    skipped: DatasetOutcome['skipped'],
  ): Promise<{ rows: Map<string, DatasetItemRow>; matched: number }> {
    const { store, blobs } = this.deps;

    let devices = sel.devices;
    if (sel.group !== undefined) {
      const inGroup = new Set(await store.devices.select({ group: sel.group, includeDisabled: true }));
      if (inGroup.size === 0)
        throw new RegistryError(404, `no device is in group "${sel.group}"; see edgeloop devices for the groups`);
      devices = devices ? devices.filter((d) => inGroup.has(d)) : [...inGroup];
    }
    const samples = await store.samples.forDataset({
      ...(sel.model !== undefined ? { model: sel.model } : {}),
      ...(sel.version !== undefined ? { version: sel.version } : {}),
      ...(sel.excludeVersions !== undefined ? { excludeVersions: sel.excludeVersions } : {}),
      ...(devices !== undefined ? { devices } : {}),
      ...(sel.from !== undefined ? { from: sel.from } : {}),
      ...(sel.to !== undefined ? { to: sel.to } : {}),
      ...(sel.reasons !== undefined ? { reasons: sel.reasons } : {}),
    });
    const bySha = new Map<string, DatasetItemRow>();
    for (const s of samples) {
      if (s.reference === null) {
        skipped.noReference++;
        continue;
      }
      if (bySha.has(s.sha256)) {
        skipped.duplicates++;
        continue;
      }
      if ((await blobs.size(s.sha256)) === undefined) {
        skipped.noBytes++;
        continue;
      }
      bySha.set(s.sha256, {
        sha256: s.sha256,
        label: s.reference,
        split: splitOf(s.sha256, ratios),
        contentType: s.contentType,
        deviceId: s.deviceId,
        stream: s.stream,
        seq: s.seq,
        ts: s.ts,
        model: s.model,
        version: s.version,
        reason: s.reason,
        ...(s.prediction !== null ? { prediction: s.prediction } : {}),
        ...(s.features ? { features: s.features } : {}),
      });
    }
    return { rows: bySha, matched: samples.length };
  }

  /** Newest first. */
  async list(): Promise<DatasetManifest[]> {
    return (await this.deps.store.datasets.list()).map((d) => d.manifest);
  }

  async get(id: string): Promise<DatasetManifest | undefined> {
    return (await this.deps.store.datasets.get(id))?.manifest;
  }

  /** A page of items in file order; `next` is the cursor of the following page (null: none). */
  async items(
    id: string,
    q: { after?: string; limit?: number } = {},
  ): Promise<{ items: SnapshotItem[]; next: string | null }> {
    await this.require(id);
    const limit = Math.min(Math.max(q.limit ?? PAGE, 1), 10_000);
    const rows = await this.deps.store.datasets.items(id, { ...(q.after ? { after: q.after } : {}), limit });
    return { items: rows.map(snapshotItem), next: rows.length === limit ? rows[rows.length - 1]!.sha256 : null };
  }

  /** One item's row (with its content type), or undefined when the snapshot does not hold it. */
  item(id: string, sha256: string): Promise<DatasetItemRow | undefined> {
    return this.deps.store.datasets.item(id, sha256);
  }

  /** Writes the snapshot as the dataset folder into `dir` (new or empty). */
  async exportTo(id: string, dir: string, onProgress?: Progress): Promise<DatasetManifest> {
    const manifest = await this.require(id);
    const missing: string[] = [];
    for await (const row of this.rows(id))
      if ((await this.deps.blobs.size(row.sha256)) === undefined) missing.push(row.sha256);
    if (missing.length > 0)
      throw new RegistryError(
        400,
        `${missing.length} images of ${id} are missing from the sample store (${listProblems(missing)}); restore the data directory's samples folder from a backup`,
      );
    const rows = this.rows(id);
    return writeDatasetFolder(dir, {
      manifest,
      items: (async function* () {
        for await (const row of rows) yield snapshotItem(row);
      })(),
      open: async (item) => {
        const stream = await this.deps.blobs.stream(item.sha256!);
        if (!stream)
          throw new RegistryError(400, `image ${item.sha256} vanished from the sample store during the export`);
        return stream;
      },
      ...(onProgress ? { onProgress } : {}),
    });
  }

  /** Imports a dataset folder on this machine: checks all of it, then stores its images and items. */
  async import(dir: string, opts: DatasetOptions = {}, onProgress?: Progress): Promise<DatasetOutcome> {
    const folder = await readDatasetFolder(dir, onProgress);
    for (const item of folder.items) await this.deps.blobs.put(await readFile(item.path));
    const items = folder.items.map(({ path: _path, ...row }) => row);
    return this.store(
      items,
      { kind: 'import', from: dir.slice(-1024) },
      {
        name: opts.name ?? folder.manifest?.name,
        description: opts.description ?? folder.manifest?.description,
        splitRatios: folder.ratios,
      },
      { noReference: 0, noBytes: 0, duplicates: folder.duplicates },
    );
  }

  /**
   * Imports items whose images were uploaded already (REST: PUT …/datasets/blobs/{sha256} first).
   * Every image must be in the store; items without a split get splitOf under the ratios.
   */
  async importItems(
    items: ReadonlyArray<Omit<DatasetItemRow, 'split'> & { split?: DatasetItemRow['split'] }>,
    opts: DatasetOptions & { from?: string } = {},
  ): Promise<DatasetOutcome> {
    const ratios = this.ratios(opts.splitRatios);
    if (items.length === 0) throw new RegistryError(400, 'no items to import; send at least one');
    const bySha = new Map<string, DatasetItemRow>();
    const conflicts: string[] = [];
    let duplicates = 0;
    for (const it of items) {
      const before = bySha.get(it.sha256);
      if (before) {
        if (before.label === it.label) duplicates++;
        else conflicts.push(it.sha256);
        continue;
      }
      bySha.set(it.sha256, { ...it, split: it.split ?? splitOf(it.sha256, ratios) });
    }
    if (conflicts.length > 0)
      throw new RegistryError(
        400,
        `images listed twice with different labels: ${listProblems(conflicts)}; keep one label per image`,
      );
    const missing: string[] = [];
    for (const sha of bySha.keys()) if ((await this.deps.blobs.size(sha)) === undefined) missing.push(sha);
    if (missing.length > 0)
      throw new RegistryError(
        400,
        `${missing.length} images are not uploaded (${listProblems(missing)}); upload each with PUT /api/v1/datasets/blobs/{sha256} first (edgeloop datasets import does)`,
      );
    return this.store(
      [...bySha.values()],
      { kind: 'import', ...(opts.from !== undefined ? { from: opts.from } : {}) },
      { ...opts, splitRatios: ratios },
      { noReference: 0, noBytes: 0, duplicates },
    );
  }

  /** Registered versions whose lineage names the snapshot. */
  async usedBy(id: string): Promise<DatasetUser[]> {
    return (await this.deps.store.models.list())
      .filter((m) => m.lineage.datasetId === id)
      .map((m) => ({ name: m.name, version: m.version }));
  }

  /** Deletes the snapshot's rows (images stay: they are samples); refused while a version names it. */
  async delete(id: string): Promise<void> {
    await this.require(id);
    const users = await this.usedBy(id);
    if (users.length > 0)
      throw new RegistryError(
        409,
        `dataset ${id} is the training data of ${users.map((u) => `${u.name}@${u.version}`).join(', ')} (their lineage names it) and is kept as long as they are registered`,
      );
    await this.deps.store.datasets.remove(id);
  }

  private ratios(given: SplitRatios | undefined): SplitRatios {
    if (given === undefined) return DEFAULT_SPLIT_RATIOS;
    const parsed = splitRatiosSchema.safeParse(given);
    if (!parsed.success) throw new RegistryError(400, `invalid split ratios: ${describeZodError(parsed.error)}`);
    return parsed.data;
  }

  private async require(id: string): Promise<DatasetManifest> {
    const manifest = await this.get(id);
    if (!manifest) throw new RegistryError(404, `no dataset ${id}; see edgeloop datasets list`);
    return manifest;
  }

  private async *rows(id: string): AsyncGenerator<DatasetItemRow> {
    let after: string | undefined;
    for (;;) {
      const page = await this.deps.store.datasets.items(id, { ...(after ? { after } : {}), limit: PAGE });
      yield* page;
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.sha256;
    }
  }

  private async store(
    items: DatasetItemRow[],
    origin: DatasetManifest['origin'],
    opts: DatasetOptions & { splitRatios: SplitRatios },
    skipped: DatasetOutcome['skipped'],
  ): Promise<DatasetOutcome> {
    items.sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
    const id = datasetContentId(items);
    const existing = await this.get(id);
    if (existing) return { dataset: existing, created: false, skipped };
    const manifest = buildDatasetManifest({
      id,
      name: opts.name,
      description: opts.description,
      createdAt: this.now(),
      origin,
      ratios: opts.splitRatios,
      items,
    });
    const row = {
      id,
      name: opts.name ?? null,
      description: opts.description ?? null,
      createdAt: manifest.createdAt,
      manifest,
    };
    if (await this.deps.store.datasets.insert(row, items)) return { dataset: manifest, created: true, skipped };
    // Made by a concurrent call in the meantime: the same content, so the same snapshot.
    return { dataset: (await this.get(id))!, created: false, skipped };
  }
}
