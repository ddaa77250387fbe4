import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetService } from '../../datasets/dataset-service.js';
import { ArtifactStore } from '../../registry/artifact-store.js';
import type { NewSample } from '../../store/fleet-store.js';
import { openFleetStore } from '../../store/open-fleet-store.js';
import { buildLoopDataset, countRecentSamples, newSamplesSince, replayCount } from './loop-dataset.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const frame = (n: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(`frame-${n}`)]);

/** The drift's onset: recent data is captured from here on. */
const ONSET = 1_700_000_000_000;
const NOW = ONSET + 3_600_000;
const MODEL = 'distance';

async function setup(t: { after: (fn: () => Promise<void> | void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-loop-data-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  const blobs = new ArtifactStore(join(dir, 'samples'));
  const datasets = new DatasetService({ store, blobs, now: () => NOW });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let seq = 0;
  /** A sample with its bytes (unless `noBytes`), captured at `ts`. */
  const add = async (deviceId: string, ts: number, extra: Partial<NewSample> & { noBytes?: boolean } = {}) => {
    const { noBytes, ...fields } = extra;
    const bytes = frame(++seq);
    if (!noBytes) await blobs.put(bytes);
    await store.samples.insert({
      deviceId,
      stream: 's1',
      seq,
      model: MODEL,
      version: 1,
      ts,
      reason: 'capture',
      prediction: seq,
      reference: 100 + seq,
      contentType: 'image/jpeg',
      sha256: sha(bytes),
      bytes: bytes.length,
      receivedAt: ts + 5,
      ...fields,
    });
    return seq;
  };
  /** The champion's training data: 40 items of one device from before the onset. */
  const parent = async () => {
    for (let i = 0; i < 40; i++) await add('pi-old', ONSET - 86_400_000 + i * 1000);
    return (await datasets.create({ devices: ['pi-old'] }, { name: 'v1 training data' })).dataset.id;
  };
  /** 10 recent samples on each of pi-1..pi-3, a minute apart from the onset. */
  const recent = async () => {
    for (let i = 0; i < 10; i++) for (const d of ['pi-1', 'pi-2', 'pi-3']) await add(d, ONSET + i * 60_000);
  };
  return { store, datasets, add, parent, recent, deps: { store, datasets } };
}

const window = { model: MODEL, from: ONSET, to: NOW };

test('too few recent samples: no dataset, the counts instead; labelled ones only, each image once', async (t) => {
  const { datasets, add, recent, parent, deps } = await setup(t);
  const parentId = await parent();
  await recent();
  // Not recent: no reference anywhere, before the onset, another model.
  await add('pi-1', ONSET + 1, { reference: null });
  await add('pi-1', ONSET - 1);
  await add('pi-1', ONSET + 2, { model: 'other' });
  // A reference value that waits for its record counts.
  const waiting = await add('pi-2', ONSET + 3, { reference: null });
  await deps.store.telemetry.updateReferences('pi-2', 's1', [{ seq: waiting, reference: 7 }]);

  assert.equal(await countRecentSamples(deps, window), 31);
  assert.equal(await countRecentSamples(deps, { ...window, devices: ['pi-1', 'nobody'] }), 10);
  assert.equal(await countRecentSamples(deps, { ...window, devices: [] }), 0);
  await assert.rejects(countRecentSamples(deps, { ...window, to: ONSET }), /window .* is empty/);

  const before = (await datasets.list()).length;
  const short = await buildLoopDataset(deps, {
    ...window,
    minSamples: 600,
    replayShare: 0.3,
    parentDatasetId: parentId,
    name: 'loop lr-1',
  });
  assert.deepEqual(short, { ok: false, have: 31, need: 600 });
  assert.equal((await datasets.list()).length, before, 'nothing stored');
});

test('enough: the recent samples plus the replayed share of the parent dataset, named for what it holds', async (t) => {
  const { datasets, recent, parent, deps } = await setup(t);
  const parentId = await parent();
  await recent();

  assert.equal(replayCount(30, 0.3), 13); // 13 / 43 ≈ 30 %
  const spec = {
    ...window,
    minSamples: 20,
    replayShare: 0.3,
    parentDatasetId: parentId,
    name: 'loop lr-1',
    description: 'drift on pi-1..3',
  };
  const built = await buildLoopDataset(deps, spec);
  assert.ok(built.ok);
  assert.equal(built.recent, 30);
  assert.equal(built.replayed, 13);
  const ds = built.outcome.dataset;
  assert.equal(built.outcome.created, true);
  assert.equal(ds.counts.total, 43);
  assert.equal(ds.name, `loop lr-1: 30 samples of 3 devices since 2023-11-14 22:13Z + 13 of ${parentId}`);
  assert.match(ds.description!, /^drift on pi-1\.\.3\n30 recent samples of distance .* from 3 devices/);
  assert.match(ds.description!, new RegExp(`13 items replayed from ${parentId}.*30 %`));
  assert.deepEqual(
    ds.sources.map((s) => [s.deviceId, s.count]),
    [
      ['pi-1', 10],
      ['pi-2', 10],
      ['pi-3', 10],
      ['pi-old', 13],
    ],
  );

  // The same data again is the same snapshot.
  const again = await buildLoopDataset(deps, spec);
  assert.ok(again.ok);
  assert.equal(again.outcome.dataset.id, ds.id);
  assert.equal(again.outcome.created, false);

  // maxSamples caps the recent part, and the replay follows it.
  const capped = await buildLoopDataset(deps, { ...spec, maxSamples: 20 });
  assert.ok(capped.ok);
  assert.deepEqual([capped.recent, capped.replayed], [20, replayCount(20, 0.3)]);
  assert.equal(capped.outcome.dataset.counts.total, 29);
  assert.match(capped.outcome.dataset.description!, /20 recent samples \(a pick by hash of 30\)/);

  // No parent (a champion without lineage): recent data alone.
  const alone = await buildLoopDataset(deps, { ...spec, parentDatasetId: null });
  assert.ok(alone.ok);
  assert.deepEqual([alone.recent, alone.replayed, alone.outcome.dataset.counts.total], [30, 0, 30]);
  assert.match(alone.outcome.dataset.description!, /Nothing replayed/);

  // A parent smaller than the share asks for gives what it has.
  const most = await buildLoopDataset(deps, { ...spec, replayShare: 0.9 });
  assert.ok(most.ok);
  assert.deepEqual([most.recent, most.replayed], [30, 40]);

  await assert.rejects(
    buildLoopDataset(deps, { ...spec, replayShare: 1 }),
    /replayShare must be at least 0 and below 1/,
  );
  assert.equal((await datasets.list()).length, 5);
});

test('excludeVersions: samples of a version being rolled back are neither counted nor trained on', async (t) => {
  const { store, add, recent, deps } = await setup(t);
  await recent();
  for (let i = 0; i < 8; i++) await add('pi-1', ONSET + i * 1000, { version: 2 });

  assert.equal(await countRecentSamples(deps, window), 38);
  assert.equal(await countRecentSamples(deps, { ...window, excludeVersions: [2] }), 30);
  const spec = { ...window, minSamples: 35, replayShare: 0.3, parentDatasetId: null, name: 'loop lr-2' };
  assert.deepEqual(await buildLoopDataset(deps, { ...spec, excludeVersions: [2] }), {
    ok: false,
    have: 30,
    need: 35,
  });
  const built = await buildLoopDataset(deps, { ...spec, minSamples: 30, excludeVersions: [2] });
  assert.ok(built.ok);
  assert.equal(built.recent, 30);
  const items = await store.datasets.items(built.outcome.dataset.id);
  assert.deepEqual([...new Set(items.map((i) => i.version))], [1]);
  assert.match(built.outcome.dataset.description!, /leaving out v2/);
});

test('samples counted but whose bytes never arrived: the counts from what is there, and no dataset left behind', async (t) => {
  const { datasets, add, deps } = await setup(t);
  for (let i = 0; i < 6; i++) await add('pi-1', ONSET + i, { noBytes: i >= 2 });
  const result = await buildLoopDataset(deps, {
    ...window,
    minSamples: 5,
    replayShare: 0,
    parentDatasetId: null,
    name: 'loop lr-3',
  });
  assert.deepEqual(result, { ok: false, have: 2, need: 5 });
  assert.deepEqual(await datasets.list(), []);
});

test('newSamplesSince: labelled samples of the model captured at or after the time', async (t) => {
  const { add, recent, deps } = await setup(t);
  await recent();
  await add('pi-1', ONSET + 5 * 60_000, { reference: null });
  await add('pi-1', ONSET + 5 * 60_000, { model: 'other' });
  assert.equal(await newSamplesSince(deps, MODEL, ONSET), 30);
  assert.equal(await newSamplesSince(deps, MODEL, ONSET + 5 * 60_000), 15);
  assert.equal(await newSamplesSince(deps, MODEL, NOW), 0);
  assert.equal(await newSamplesSince(deps, 'nothing', 0), 0);
  await assert.rejects(newSamplesSince(deps, MODEL, -1), /since must be a time/);
});
