/**
 * @module store/store-suite/datasets-contract
 * The store contract for dataset snapshots (stored once, items paged by sha256, removed with
 * their items) and for the sample selection snapshots are made from (reference values joined
 * from the sample, its telemetry record, or a late value still waiting for that record).
 */
import assert from 'node:assert/strict';
import type { DatasetManifest } from '@edgeloop/protocol';
import type { DatasetItemRow, NewSample } from '../fleet-store.js';
import { record, type WithStore } from './fixtures.js';

const hash = (n: number) => n.toString(16).padStart(64, '0');

const manifest = (id: string) => ({ id, format: 'edgeloop.dataset/1' }) as unknown as DatasetManifest;

const item = (n: number, extra: Partial<DatasetItemRow> = {}): DatasetItemRow => ({
  sha256: hash(n),
  label: n * 1.5,
  split: n % 3 ? 'train' : 'holdout',
  contentType: 'image/jpeg',
  ...extra,
});

const sample = (deviceId: string, seq: number, extra: Partial<NewSample> = {}): NewSample => ({
  deviceId,
  stream: 's1',
  seq,
  model: 'distance',
  version: 1,
  ts: 1_000 + seq,
  reason: 'capture',
  prediction: 10,
  reference: null,
  contentType: 'image/jpeg',
  sha256: hash(seq),
  bytes: 5,
  receivedAt: 9,
  ...extra,
});

export function datasetsContract(withStore: WithStore): void {
  withStore('datasets: stored once with their items, paged by sha256, removed with their items', async (s) => {
    const full = item(2, {
      deviceId: 'pi-1',
      stream: 's1',
      seq: 7,
      ts: 1_234,
      model: 'distance',
      version: 2,
      reason: 'uncertain',
      prediction: 12.5,
      features: { brightness: 0.5, sharpness: 3 },
    });
    const items = [item(3), full, item(1, { label: -0.25, split: 'validation' })];
    const row = { id: 'ds-a', name: 'first', description: null, createdAt: 5, manifest: manifest('ds-a') };
    assert.equal(await s.datasets.insert(row, items), true);
    assert.equal(await s.datasets.insert({ ...row, name: 'again' }, [item(9)]), false, 'the same id is stored once');
    assert.equal(
      await s.datasets.insert(
        { id: 'ds-b', name: null, description: 'd', createdAt: 6, manifest: manifest('ds-b') },
        [],
      ),
      true,
    );

    const got = await s.datasets.get('ds-a');
    assert.deepEqual(got, { ...row, itemCount: 3 });
    assert.equal(await s.datasets.get('ds-none'), undefined);
    assert.deepEqual(
      (await s.datasets.list()).map((d) => [d.id, d.itemCount]),
      [
        ['ds-b', 0],
        ['ds-a', 3],
      ],
    );

    assert.deepEqual(await s.datasets.items('ds-a'), [items[2], full, items[0]]);
    assert.deepEqual(await s.datasets.items('ds-a', { limit: 2 }), [items[2], full]);
    assert.deepEqual(await s.datasets.items('ds-a', { after: hash(2) }), [items[0]]);
    assert.deepEqual(await s.datasets.item('ds-a', hash(2)), full);
    assert.equal(await s.datasets.item('ds-b', hash(2)), undefined);

    // Many items go in several statements, still in one step.
    const many = Array.from({ length: 1_203 }, (_, i) => item(100 + i));
    assert.equal(
      await s.datasets.insert(
        { id: 'ds-c', name: null, description: null, createdAt: 7, manifest: manifest('ds-c') },
        many,
      ),
      true,
    );
    assert.equal((await s.datasets.items('ds-c')).length, 1_203);

    assert.equal(await s.datasets.remove('ds-a'), true);
    assert.equal(await s.datasets.remove('ds-a'), false);
    assert.equal(await s.datasets.get('ds-a'), undefined);
    assert.deepEqual(await s.datasets.items('ds-a'), []);
    assert.equal(await s.datasets.insert(row, [item(4)]), true, 'a removed id can be stored again');
    assert.deepEqual(
      (await s.datasets.items('ds-a')).map((i) => i.sha256),
      [hash(4)],
    );
  });

  withStore(
    'samples for a dataset: selection and the reference joined from sample, record or pending value',
    async (s) => {
      await s.samples.insert(sample('pi-1', 1, { reference: 100 }));
      await s.samples.insert(sample('pi-1', 2));
      await s.samples.insert(sample('pi-1', 3));
      await s.samples.insert(sample('pi-2', 4, { reason: 'uncertain', version: 2 }));
      await s.samples.insert(sample('pi-2', 5, { model: 'other' }));
      // pi-1 seq 2: its record carries the value (and features); seq 3: a value waits for its record.
      await s.telemetry.insertBatch('pi-1', 's1', [
        record(2, { model: 'distance', reference: 42, features: { brightness: 0.25 } }),
        record(1, { model: 'distance', reference: 7, features: {} }),
      ]);
      await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 3, reference: 33 }]);
      await s.telemetry.insertBatch('pi-2', 's1', [record(4, { model: 'distance', reference: null, features: {} })]);

      const all = await s.samples.forDataset({});
      assert.deepEqual(
        all.map((x) => [x.deviceId, x.seq, x.reference, x.features]),
        [
          ['pi-1', 1, 100, null],
          ['pi-1', 2, 42, { brightness: 0.25 }],
          ['pi-1', 3, 33, null],
          ['pi-2', 4, null, null],
          ['pi-2', 5, null, null],
        ],
      );
      const seqs = async (q: Parameters<typeof s.samples.forDataset>[0]) =>
        (await s.samples.forDataset(q)).map((x) => x.seq);
      assert.deepEqual(await seqs({ model: 'distance' }), [1, 2, 3, 4]);
      assert.deepEqual(await seqs({ model: 'distance', version: 2 }), [4]);
      assert.deepEqual(await seqs({ devices: ['pi-2'] }), [4, 5]);
      assert.deepEqual(await seqs({ devices: [] }), []);
      assert.deepEqual(await seqs({ from: 1_002, to: 1_004 }), [2, 3]);
      assert.deepEqual(await seqs({ reasons: ['uncertain', 'nope'] }), [4]);
      assert.deepEqual(await seqs({ model: 'distance', excludeVersions: [2] }), [1, 2, 3]);
      assert.deepEqual(await seqs({ model: 'distance', excludeVersions: [] }), [1, 2, 3, 4]);
    },
  );

  withStore(
    'samples with a reference counted: distinct images, the reference joined as for a dataset, the selection applied',
    async (s) => {
      await s.samples.insert(sample('pi-1', 1, { reference: 100 }));
      await s.samples.insert(sample('pi-1', 2));
      await s.samples.insert(sample('pi-1', 3));
      await s.samples.insert(sample('pi-1', 4));
      // The same image from another device counts once.
      await s.samples.insert(sample('pi-2', 5, { reference: 5, sha256: hash(1) }));
      await s.samples.insert(sample('pi-2', 6, { reference: 6, version: 2 }));
      await s.samples.insert(sample('pi-2', 7, { reference: 7, model: 'other' }));
      await s.telemetry.insertBatch('pi-1', 's1', [record(2, { model: 'distance', reference: 42, features: {} })]);
      await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 3, reference: 33 }]);

      // seq 4 has no value anywhere; seq 5 repeats seq 1's image.
      assert.equal(await s.samples.countWithReference({}), 5);
      assert.equal(await s.samples.countWithReference({ model: 'distance' }), 4);
      assert.equal(await s.samples.countWithReference({ model: 'distance', excludeVersions: [2] }), 3);
      assert.equal(await s.samples.countWithReference({ model: 'distance', version: 2 }), 1);
      assert.equal(await s.samples.countWithReference({ devices: ['pi-2'] }), 3);
      assert.equal(await s.samples.countWithReference({ devices: [] }), 0);
      assert.equal(await s.samples.countWithReference({ from: 1_002, to: 1_006 }), 3);
      assert.equal(await s.samples.countWithReference({ reasons: ['uncertain'] }), 0);
      assert.equal(await s.samples.countWithReference({ model: 'nothing' }), 0);
    },
  );
}
