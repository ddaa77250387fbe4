import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ackSchema, decodeMessage, encodeMessage, encodeTelemetryBatch, type Ack, type TelemetryRecord } from '@edgeloop/protocol';
import { openFleetDb } from '../store/fleet-db.js';
import { DeviceStore } from '../store/device-store.js';
import { TelemetryStore } from '../store/telemetry-store.js';
import { MAX_GROUP_RECORDS, telemetryIngest, type TelemetryIngestStats } from './telemetry-ingest.js';

function setup(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-ingest-'));
  const db = openFleetDb(join(dir, 'fleet.db'));
  t.after(() => { db.close(); rmSync(dir, { recursive: true, force: true }); });
  const telemetry = new TelemetryStore(db);
  const stats: TelemetryIngestStats = { batches: 0, stored: 0, duplicates: 0, rejected: 0 };
  /** Each ack with the number of records stored when it was published. */
  const acks: Array<{ device: string; ack: Ack; storedThen: number }> = [];
  const ingest = telemetryIngest({
    devices: new DeviceStore(db), telemetry, stats, log: pino({ level: 'silent' }),
    publish: async (topic, payload) => {
      const ack = decodeMessage(ackSchema, payload);
      assert.ok(ack.ok);
      acks.push({ device: topic.split('/')[3]!, ack: ack.value, storedThen: telemetry.count() });
    },
  });
  return { db, telemetry, stats, acks, ingest };
}

const records = (from: number, n: number): TelemetryRecord[] =>
  Array.from({ length: n }, (_, i) => ({ seq: from + i, ts: 1_000 + from + i, model: 'm', version: 1, output: [i], prediction: i, latencyMs: 1, features: { f: i } }));
const batch = (stream: string, from: number, n: number) => encodeTelemetryBatch({ v: 1, stream, records: records(from, n), backlog: 0 });

test('batches that arrive together are committed together, then each is acked', async (t) => {
  const { telemetry, acks, ingest } = setup(t);
  await Promise.all([ingest('pi-1', batch('s1', 1, 100)), ingest('pi-2', batch('s2', 1, 50)), ingest('pi-1', batch('s1', 101, 100))]);
  assert.equal(telemetry.count(), 250);
  assert.deepEqual(acks.map((a) => [a.device, a.ack.stream, a.ack.seqFrom, a.ack.seqTo, a.ack.status]), [
    ['pi-1', 's1', 1, 100, 'stored'], ['pi-2', 's2', 1, 50, 'stored'], ['pi-1', 's1', 101, 200, 'stored'],
  ]);
  assert.ok(acks.every((a) => a.storedThen === 250), 'no ack went out before the whole group was committed');
});

test('a group stays under MAX_GROUP_RECORDS, so the first acks do not wait for a whole window', async (t) => {
  const { acks, ingest } = setup(t);
  const size = Math.ceil(MAX_GROUP_RECORDS / 2);
  await Promise.all([1, 2, 3].map((k) => ingest('pi-1', batch('s1', 1 + (k - 1) * size, size))));
  assert.deepEqual(acks.map((a) => a.storedThen), [2 * size, 2 * size, 3 * size]);
});

test('a refused batch is nacked and the batches around it are stored', async (t) => {
  const { telemetry, stats, acks, ingest } = setup(t);
  const invalid = encodeMessage({ v: 1, stream: 's1', records: [{ ...records(11, 1)[0], latencyMs: -1 }], backlog: 0 });
  await Promise.all([ingest('pi-1', batch('s1', 1, 10)), ingest('pi-1', invalid), ingest('pi-1', Buffer.from([0xe1, 2, 1])), ingest('pi-1', batch('s1', 12, 10))]);
  assert.equal(telemetry.count(), 20);
  assert.equal(stats.rejected, 2);
  const answers = acks.map((a) => [a.ack.seqFrom, a.ack.seqTo, a.ack.status]).sort((a, b) => (a[0] as number) - (b[0] as number));
  assert.deepEqual(answers, [[1, 10, 'stored'], [11, 11, 'rejected'], [12, 21, 'stored']]);
});

test('a batch the store refuses does not take the rest of its group down', async (t) => {
  const { db, telemetry, acks, ingest } = setup(t);
  db.exec(`CREATE TRIGGER poison BEFORE INSERT ON telemetry WHEN NEW.stream = 'poison' BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
  const results = await Promise.allSettled([ingest('pi-1', batch('s1', 1, 10)), ingest('pi-2', batch('poison', 1, 10)), ingest('pi-3', batch('s3', 1, 10))]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.equal(telemetry.count(), 20);
  assert.deepEqual(acks.map((a) => a.device), ['pi-1', 'pi-3'], 'the refused batch is not acked: the device re-sends it');
});

test('afterStored runs once every batch received before it is stored', async (t) => {
  const { telemetry, ingest } = setup(t);
  const seen: number[] = [];
  await Promise.all([
    ingest('pi-1', batch('s1', 1, 30)),
    ingest.afterStored(() => { seen.push(telemetry.count()); }),
    ingest('pi-1', batch('s1', 31, 30)),
    ingest.afterStored(async () => { seen.push(telemetry.count()); }),
  ]);
  assert.deepEqual(seen, [30, 60]);
});
