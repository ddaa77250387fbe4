import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import {
  ackSchema,
  decodeMessage,
  encodeMessage,
  encodeTelemetryBatch,
  type Ack,
  type ReferenceUpdateBatch,
  type TelemetryRecord,
} from '@edgeloop/protocol';
import type { FleetStore, IngestBatch, TelemetryRepository } from '../store/fleet-store.js';
import { openFleetStore } from '../store/open-fleet-store.js';
import { referenceIngest } from './reference-ingest.js';
import {
  MAX_GROUP_BATCHES,
  MAX_GROUP_RECORDS,
  telemetryIngest,
  type TelemetryIngestStats,
} from './telemetry-ingest.js';

const silent = pino({ level: 'silent' });

/** The store as the ingest sees it, with telemetry of stream "poison" failing (a store that refuses a batch). */
function poisoned(store: FleetStore): FleetStore {
  const telemetry: TelemetryRepository = Object.assign(Object.create(store.telemetry) as TelemetryRepository, {
    storeBatches: (batches: readonly IngestBatch[], now?: number) =>
      batches.some((b) => b.stream === 'poison')
        ? Promise.reject(new Error('disk says no'))
        : store.telemetry.storeBatches(batches, now),
  });
  return Object.assign(Object.create(store) as FleetStore, { telemetry });
}

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-ingest-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const stats: TelemetryIngestStats = { batches: 0, stored: 0, duplicates: 0, rejected: 0 };
  /** Each ack with the number of records stored when it was published. */
  const acks: Array<{ device: string; ack: Ack; storedThen: number }> = [];
  const publishing: Array<Promise<void>> = [];
  const publish = (topic: string, payload: Buffer) => {
    const ack = decodeMessage(ackSchema, payload);
    assert.ok(ack.ok);
    const entry = { device: topic.split('/')[3]!, ack: ack.value, storedThen: -1 };
    acks.push(entry);
    const counted = store.telemetry.count().then((n) => void (entry.storedThen = n));
    publishing.push(counted);
    return counted;
  };
  /** Every ack published so far, with its count read. */
  const published = async () => {
    await Promise.all(publishing);
    return acks;
  };
  const ingest = telemetryIngest({ store: poisoned(store), stats, log: silent, publish });
  const references = referenceIngest({ telemetry: store.telemetry, log: silent, publish });
  return { store, stats, acks, published, ingest, references };
}

const records = (from: number, n: number): TelemetryRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    seq: from + i,
    ts: 1_000 + from + i,
    model: 'm',
    version: 1,
    output: [i],
    prediction: i,
    latencyMs: 1,
    features: { f: i },
  }));
const batch = (stream: string, from: number, n: number) =>
  encodeTelemetryBatch({ v: 1, stream, records: records(from, n), backlog: 0 });
const referenceUpdate = (stream: string, seq: number, reference: number) =>
  encodeMessage({ v: 1, stream, updates: [{ id: seq, seq, reference }] } satisfies ReferenceUpdateBatch);

test('batches that arrive together are committed together, then each is acked', async (t) => {
  const { store, published, ingest } = await setup(t);
  await Promise.all([
    ingest('pi-1', batch('s1', 1, 100)),
    ingest('pi-2', batch('s2', 1, 50)),
    ingest('pi-1', batch('s1', 101, 100)),
  ]);
  const acks = await published();
  assert.equal(await store.telemetry.count(), 250);
  assert.deepEqual(
    acks.map((a) => [a.device, a.ack.stream, a.ack.seqFrom, a.ack.seqTo, a.ack.status]),
    [
      ['pi-1', 's1', 1, 100, 'stored'],
      ['pi-2', 's2', 1, 50, 'stored'],
      ['pi-1', 's1', 101, 200, 'stored'],
    ],
  );
  assert.ok(
    acks.every((a) => a.storedThen === 250),
    'no ack went out before the whole group was committed',
  );
  assert.deepEqual(
    (await store.devices.list()).map((d) => [d.id, d.records]),
    [
      ['pi-1', 200],
      ['pi-2', 50],
    ],
    'devices without a birth are registered and counted',
  );
});

test('a group stays under MAX_GROUP_RECORDS, so the first acks do not wait for a whole window', async (t) => {
  const { published, ingest } = await setup(t);
  const size = Math.ceil(MAX_GROUP_RECORDS / 2);
  await Promise.all([1, 2, 3].map((k) => ingest('pi-1', batch('s1', 1 + (k - 1) * size, size))));
  const acks = await published();
  assert.deepEqual(
    acks.map((a) => a.storedThen),
    [2 * size, 2 * size, 3 * size],
  );
});

test('a group holds at most MAX_GROUP_BATCHES batches: many small ones are stored in several short commits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-ingest-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const groupSizes: number[] = [];
  const telemetry: TelemetryRepository = Object.assign(Object.create(store.telemetry) as TelemetryRepository, {
    storeBatches: (batches: readonly IngestBatch[], now?: number) => {
      groupSizes.push(batches.length);
      return store.telemetry.storeBatches(batches, now);
    },
  });
  const stats: TelemetryIngestStats = { batches: 0, stored: 0, duplicates: 0, rejected: 0 };
  const ingest = telemetryIngest({
    store: Object.assign(Object.create(store) as FleetStore, { telemetry }),
    stats,
    log: silent,
    publish: () => Promise.resolve(),
  });
  const devices = MAX_GROUP_BATCHES * 2 + 10;
  await Promise.all(Array.from({ length: devices }, (_, i) => ingest(`pi-${i}`, batch('s1', 1, 1))));
  assert.equal(await store.telemetry.count(), devices);
  assert.ok(groupSizes.length >= 3, `stored in ${groupSizes.length} groups`);
  assert.ok(
    groupSizes.every((n) => n <= MAX_GROUP_BATCHES),
    `group sizes ${groupSizes.join(', ')}`,
  );
});

test('a refused batch is nacked and the batches around it are stored', async (t) => {
  const { store, stats, acks, ingest } = await setup(t);
  const invalid = encodeMessage({ v: 1, stream: 's1', records: [{ ...records(11, 1)[0], latencyMs: -1 }], backlog: 0 });
  await Promise.all([
    ingest('pi-1', batch('s1', 1, 10)),
    ingest('pi-1', invalid),
    ingest('pi-1', Buffer.from([0xe1, 2, 1])),
    ingest('pi-1', batch('s1', 12, 10)),
  ]);
  assert.equal(await store.telemetry.count(), 20);
  assert.equal(stats.rejected, 2);
  const answers = acks
    .map((a) => [a.ack.seqFrom, a.ack.seqTo, a.ack.status])
    .sort((a, b) => (a[0] as number) - (b[0] as number));
  assert.deepEqual(answers, [
    [1, 10, 'stored'],
    [11, 11, 'rejected'],
    [12, 21, 'stored'],
  ]);
});

test('a batch the store refuses does not take the rest of its group down', async (t) => {
  const { store, acks, ingest } = await setup(t);
  const results = await Promise.allSettled([
    ingest('pi-1', batch('s1', 1, 10)),
    ingest('pi-2', batch('poison', 1, 10)),
    ingest('pi-3', batch('s3', 1, 10)),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.equal(await store.telemetry.count(), 20);
  assert.deepEqual(
    acks.map((a) => a.device),
    ['pi-1', 'pi-3'],
    'the refused batch is not acked: the device re-sends it',
  );
});

test('a late reference value finds its record whichever of the two reaches the server first', async (t) => {
  const { store, acks, ingest, references } = await setup(t);
  // Reference first: the record's batch is still on its way (or re-sent after a reconnect).
  await references('pi-1', referenceUpdate('s1', 3, 42));
  assert.deepEqual(
    acks.map((a) => [a.ack.kind, a.ack.status]),
    [['reference', 'stored']],
    'acked at once: the value is kept',
  );
  await ingest('pi-1', batch('s1', 1, 5));
  // Telemetry first, then its reference; and a re-sent update changes nothing.
  await references('pi-1', referenceUpdate('s1', 5, 7));
  await references('pi-1', referenceUpdate('s1', 5, 7));
  const bySeq = new Map((await store.telemetry.query({ device: 'pi-1', limit: 10 })).map((r) => [r.seq, r.reference]));
  assert.deepEqual([bySeq.get(3), bySeq.get(5), bySeq.get(4)], [42, 7, null]);
});

test('with parallel writes, a device is never in two groups at once and its acks keep their order', async (t) => {
  const { store, stats, published } = await setup(t);
  const inFlight = new Set<string>();
  let overlapped = 0;
  let maxGroups = 0;
  let groups = 0;
  const telemetry: TelemetryRepository = Object.assign(Object.create(store.telemetry) as TelemetryRepository, {
    parallelWrites: 2,
    storeBatches: async (batches: readonly IngestBatch[], now?: number) => {
      const devices = new Set(batches.map((b) => b.deviceId));
      for (const d of devices) assert.ok(!inFlight.has(d), `${d} is in two groups in flight`);
      for (const d of devices) inFlight.add(d);
      maxGroups = Math.max(maxGroups, ++groups);
      if (groups > 1) overlapped++;
      try {
        // Let the other group start before this one is stored.
        await new Promise((r) => setTimeout(r, 5));
        return await store.telemetry.storeBatches(batches, now);
      } finally {
        groups--;
        for (const d of devices) inFlight.delete(d);
      }
    },
  });
  const acks: string[] = [];
  const ingest = telemetryIngest({
    store: Object.assign(Object.create(store) as FleetStore, { telemetry }),
    stats,
    log: silent,
    publish: async (topic, payload) => {
      const ack = decodeMessage(ackSchema, payload);
      assert.ok(ack.ok);
      acks.push(`${topic.split('/')[3]}:${ack.value.seqFrom}`);
    },
  });
  const size = 3000; // three batches fill a group: later ones wait for the next
  const sends: Array<Promise<void>> = [];
  for (let k = 0; k < 4; k++)
    for (const device of ['pi-1', 'pi-2', 'pi-3']) sends.push(ingest(device, batch('s1', 1 + k * size, size)));
  await Promise.all(sends);
  await published();
  assert.equal(await store.telemetry.count(), 12 * size);
  assert.equal(maxGroups, 2, 'two groups were in flight at once');
  assert.ok(overlapped > 0);
  for (const device of ['pi-1', 'pi-2', 'pi-3'])
    assert.deepEqual(
      acks.filter((a) => a.startsWith(`${device}:`)),
      [0, 1, 2, 3].map((k) => `${device}:${1 + k * size}`),
    );
});

test('the queue of received batches reports saturation and says when it has drained', async (t) => {
  const { store, stats } = await setup(t);
  const one = batch('s1', 1, 100);
  const ingest = telemetryIngest({
    store,
    stats,
    log: silent,
    publish: async () => undefined,
    maxQueuedBytes: one.length * 3,
  });
  assert.equal(ingest.saturated, false);
  const sends = [1, 2, 3, 4].map((k) => ingest(`pi-${k}`, batch('s1', 1, 100)));
  assert.equal(ingest.saturated, true);
  assert.equal(ingest.queuedBytes, 4 * one.length);
  let drained = 0;
  ingest.onDrained(() => drained++);
  await Promise.all(sends);
  assert.equal(drained, 1);
  assert.equal(ingest.saturated, false);
  assert.equal(ingest.queuedBytes, 0);
  ingest.onDrained(() => drained++);
  assert.equal(drained, 2, 'called at once when not saturated');
  assert.equal(await store.telemetry.count(), 400);
});
