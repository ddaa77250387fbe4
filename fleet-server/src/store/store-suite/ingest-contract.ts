/**
 * @module store/store-suite/ingest-contract
 * The store contract for the ingest's group commit (telemetry.storeBatches): per batch, the
 * device made known, the records stored exactly once, the device's counters; all or nothing.
 */
import assert from 'node:assert/strict';
import type { TelemetryRecord } from '@edgeloop/protocol';
import type { IngestBatch } from '../fleet-store.js';
import { birth, record, type WithStore } from './fixtures.js';

const range = (from: number, n: number): TelemetryRecord[] => Array.from({ length: n }, (_, i) => record(from + i));
const batch = (deviceId: string, stream: string, records: TelemetryRecord[], extra: Partial<IngestBatch> = {}) => ({
  deviceId,
  stream,
  records,
  historical: false,
  ...extra,
});

export function ingestContract(withStore: WithStore): void {
  withStore('storeBatches stores a group of devices and streams, answering per batch in the given order', async (s) => {
    await s.devices.recordBirth(birth('pi-1', 1, { dropped: 5 }), 100);
    await s.telemetry.insertBatch('pi-1', 's1', [record(3)]);
    const stored = await s.telemetry.storeBatches(
      [
        batch('pi-2', 's1', range(1, 40), { backlog: 9 }),
        batch('pi-1', 's1', range(1, 4), { backlog: 7, dropped: 2 }),
        batch('pi-2', 's1', range(41, 10), { backlog: 3, historical: true }),
        batch('pi-1', 's2', range(1, 2), { dropped: 8 }),
      ],
      5_000,
    );
    assert.deepEqual(stored, [
      { added: 40, registered: true },
      { added: 3, registered: false },
      { added: 10, registered: false },
      { added: 2, registered: false },
    ]);
    assert.equal(await s.telemetry.count('pi-2'), 50);
    assert.equal(await s.telemetry.count('pi-1'), 6, 're-sent seq 3 is stored once');
    const rows = await s.telemetry.query({ device: 'pi-2', order: 'oldest', limit: 100 });
    assert.deepEqual(
      rows.map((r) => [r.seq, r.receivedAt, r.historical]),
      range(1, 50).map((r) => [r.seq, 5_000, r.seq > 40]),
    );
    const devices = await s.devices.getMany(['pi-1', 'pi-2']);
    const pi1 = devices.get('pi-1')!;
    const pi2 = devices.get('pi-2')!;
    assert.deepEqual([pi1.lastSeen, pi1.backlog, pi1.records, pi1.dropped], [5_000, 7, 5, 8]);
    assert.deepEqual([pi2.firstSeen, pi2.lastSeen, pi2.backlog, pi2.records, pi2.dropped], [5_000, 5_000, 3, 50, 0]);
  });

  withStore('storeBatches takes a reference value that waited for its record', async (s) => {
    await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 2, reference: 42 }]);
    await s.telemetry.storeBatches([batch('pi-1', 's1', range(1, 3))]);
    const rows = await s.telemetry.query({ device: 'pi-1', order: 'oldest' });
    assert.deepEqual(
      rows.map((r) => r.reference),
      [record(1).reference ?? null, 42, record(3).reference ?? null],
    );
    assert.deepEqual(await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 2, reference: 42 }]), {
      applied: 1,
      pending: 0,
    });
  });

  withStore('storeBatches joins a unit of work and rolls back with it', async (s) => {
    await assert.rejects(
      s.transaction(async () => {
        await s.telemetry.storeBatches([batch('pi-1', 's1', range(1, 3)), batch('pi-2', 's1', range(1, 3))]);
        throw new Error('later step failed');
      }),
      /later step failed/,
    );
    assert.equal(await s.telemetry.count(), 0);
    assert.equal(await s.devices.exists('pi-1'), false);
  });

  withStore(
    'storeBatches stores each seq once when batches of a stream overlap in a group, text kept as sent',
    async (s) => {
      const odd = { requestId: 'tab\there, back\\slash, new\nline\r', features: { 'k\t\\': 1.5 } };
      const stored = await s.telemetry.storeBatches([
        batch('pi-1', 's1', [record(1, odd), ...range(2, 9)]),
        batch('pi-1', 's1', range(5, 10)),
        batch('pi-1', 's1', range(15, 5)),
        batch('pi-1', 's1', range(1, 3)),
      ]);
      assert.deepEqual(
        stored.map((b) => b.added),
        [10, 4, 5, 0],
      );
      const rows = await s.telemetry.query({ device: 'pi-1', order: 'oldest', limit: 100 });
      assert.deepEqual(
        rows.map((r) => r.seq),
        range(1, 19).map((r) => r.seq),
      );
      assert.deepEqual([rows[0]!.requestId, rows[0]!.features], [odd.requestId, odd.features]);
      assert.equal((await s.devices.get('pi-1'))!.records, 19);
    },
  );

  withStore('concurrent storeBatches calls on distinct devices all commit', async (s) => {
    assert.ok(s.telemetry.parallelWrites >= 1);
    const groups = Array.from({ length: 4 }, (_, g) =>
      Array.from({ length: 5 }, (_, d) => batch(`pi-${g}-${d}`, 's1', range(1, 20))),
    );
    const stored = await Promise.all(groups.map((g) => s.telemetry.storeBatches(g)));
    assert.ok(stored.flat().every((b) => b.added === 20 && b.registered));
    assert.equal(await s.telemetry.count(), 4 * 5 * 20);
  });
}
