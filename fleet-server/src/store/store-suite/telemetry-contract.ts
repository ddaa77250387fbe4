/**
 * @module store/store-suite/telemetry-contract
 * The store contract for telemetry: exactly-once inserts, reference values in either order, live error.
 */
import assert from 'node:assert/strict';
import { PENDING_REFERENCE_TTL_MS } from '../fleet-store.js';
import { record, type WithStore } from './fixtures.js';

export function telemetryContract(withStore: WithStore): void {
  withStore('telemetry inserts are idempotent per (device, stream, seq)', async (s) => {
    assert.equal(await s.telemetry.insertBatch('pi-1', 's1', [record(1), record(2)]), 2);
    assert.equal(await s.telemetry.insertBatch('pi-1', 's1', [record(2), record(3)]), 1, 're-sent seq 2 is skipped');
    assert.equal(await s.telemetry.insertBatch('pi-1', 's2', [record(1)]), 1, 'another stream is distinct');
    assert.equal(await s.telemetry.insertBatch('pi-2', 's1', [record(1)]), 1, 'another device is distinct');
    assert.equal(await s.telemetry.count('pi-1'), 4);
    assert.equal(await s.telemetry.count(), 5);
    assert.deepEqual(
      (await s.telemetry.query({ device: 'pi-1', order: 'oldest' })).map((r) => r.seq),
      [1, 2, 3, 1],
    );
  });

  withStore('large batches store every field and count only new records', async (s) => {
    const first = Array.from({ length: 150 }, (_, i) => record(i + 1));
    assert.equal(await s.telemetry.insertBatch('pi-1', 's1', first, 5, true), 150);
    const overlapping = Array.from({ length: 141 }, (_, i) => record(i + 40));
    assert.equal(await s.telemetry.insertBatch('pi-1', 's1', overlapping, 6), 30);
    const rows = await s.telemetry.query({ device: 'pi-1', order: 'oldest', limit: 1000 });
    assert.deepEqual(
      rows.map((r) => r.seq),
      Array.from({ length: 180 }, (_, i) => i + 1),
    );
    for (const row of rows) {
      const want = record(row.seq);
      assert.deepEqual(
        {
          ts: row.ts,
          model: row.model,
          version: row.version,
          output: row.output,
          prediction: row.prediction,
          latencyMs: row.latencyMs,
          features: row.features,
          reference: row.reference,
          requestId: row.requestId,
          shadow: row.shadow,
        },
        {
          ts: want.ts,
          model: want.model,
          version: want.version,
          output: want.output,
          prediction: want.prediction ?? null,
          latencyMs: want.latencyMs,
          features: want.features,
          reference: want.reference ?? null,
          requestId: want.requestId ?? null,
          shadow: want.shadow === true,
        },
      );
      assert.equal(row.historical, row.seq <= 150);
      assert.equal(row.receivedAt, row.seq <= 150 ? 5 : 6, 're-sent records keep their first receive time');
    }
    assert.deepEqual(
      (await s.telemetry.query({ device: 'pi-1', shadow: true, limit: 1000 })).map((r) => r.seq).sort((a, b) => a - b),
      [9, 18, 27, 36, 45, 54, 63, 72, 81, 90, 99, 108, 117, 126, 135, 144, 153, 162, 171, 180],
    );
    const page = await s.telemetry.query({ device: 'pi-1', order: 'oldest', afterId: rows[9]!.id, limit: 5 });
    assert.deepEqual(
      page.map((r) => r.seq),
      [11, 12, 13, 14, 15],
    );
  });

  withStore('a late reference value for a stored record is applied; re-sending it changes nothing', async (s) => {
    await s.telemetry.insertBatch('pi-1', 's1', [record(1, { reference: undefined }), record(2)]);
    assert.deepEqual(await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 1, reference: 42 }]), {
      applied: 1,
      pending: 0,
    });
    assert.deepEqual(await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 1, reference: 42 }]), {
      applied: 1,
      pending: 0,
    });
    const [row] = await s.telemetry.query({ device: 'pi-1', order: 'oldest', limit: 1 });
    assert.equal(row?.reference, 42);
  });

  withStore('a reference value that arrives before its record waits and is applied by the insert', async (s) => {
    assert.deepEqual(
      await s.telemetry.updateReferences('pi-1', 's1', [
        { seq: 7, reference: 70 },
        { seq: 8, reference: 80 },
      ]),
      { applied: 0, pending: 2 },
    );
    assert.deepEqual(
      await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 7, reference: 71 }]),
      { applied: 0, pending: 1 },
      'a re-sent update replaces the waiting one',
    );
    await s.telemetry.insertBatch('pi-1', 's2', [record(7)]);
    await s.telemetry.insertBatch('pi-1', 's1', [record(6), record(7, { reference: undefined })]);
    const bySeq = new Map(
      (await s.telemetry.query({ device: 'pi-1', limit: 10 })).map((r) => [`${r.stream}/${r.seq}`, r.reference]),
    );
    assert.equal(bySeq.get('s1/7'), 71, 'the waiting value is applied');
    assert.equal(bySeq.get('s1/6'), record(6).reference ?? null, 'other records are untouched');
    assert.equal(bySeq.get('s2/7'), record(7).reference ?? null, 'another stream is not matched');
    await s.telemetry.insertBatch('pi-1', 's1', [record(7, { reference: 1 })]);
    assert.equal(
      (await s.telemetry.query({ device: 'pi-1', limit: 10 })).find((r) => r.stream === 's1' && r.seq === 7)?.reference,
      71,
      'a re-sent record does not undo it',
    );
    await s.telemetry.insertBatch('pi-1', 's1', [record(8)]);
    assert.equal((await s.telemetry.query({ device: 'pi-1', limit: 10 })).find((r) => r.seq === 8)?.reference, 80);
    assert.deepEqual(
      await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 8, reference: 80 }]),
      { applied: 1, pending: 0 },
      'nothing waits any more',
    );
  });

  withStore('a reference value whose record never comes is dropped after PENDING_REFERENCE_TTL_MS', async (s) => {
    await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 1, reference: 10 }], 1_000);
    await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 2, reference: 20 }], 1_000 + PENDING_REFERENCE_TTL_MS);
    await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 3, reference: 30 }], 2_000 + PENDING_REFERENCE_TTL_MS);
    await s.telemetry.insertBatch(
      'pi-1',
      's1',
      [1, 2, 3].map((seq) => record(seq, { reference: undefined })),
    );
    const bySeq = new Map((await s.telemetry.query({ device: 'pi-1' })).map((r) => [r.seq, r.reference]));
    assert.deepEqual([bySeq.get(1), bySeq.get(2), bySeq.get(3)], [null, 20, 30]);
  });
}
