import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { decodeTelemetryPayload, type TelemetryBatch } from '@edgeloop/protocol';
import { openAgentDb } from '../store/agent-db.js';
import { RecordBuffer, type NewRecord } from '../store/record-buffer.js';
import { TelemetrySync, type SyncOptions } from './telemetry-sync.js';
import { startTestFleet, until } from '../../../test/support/in-process-fleet.js';

const silent = pino({ level: 'silent' });
const rec = (i: number): NewRecord => ({ ts: 1_700_000_000_000 + i, model: 'm', version: 1, output: [i], prediction: i, latencyMs: 1, features: { f: i } });
const options: SyncOptions = { batchSize: 10, window: 2, flushIntervalMs: 0, ackTimeoutMs: 60_000, encoding: 'compact', maxBytesPerSecond: 0 };

/** A buffer of `n` records and a sync whose batches land in `sent` (the test plays the fleet server). */
async function harness(t: { after: (fn: () => void) => void }, n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-sync-'));
  const db = openAgentDb(join(dir, 'agent.db'));
  const buffer = new RecordBuffer(db);
  await Promise.all(Array.from({ length: n }, (_, i) => buffer.append(rec(i))));
  const sent: TelemetryBatch[] = [];
  const sync = new TelemetrySync(buffer, 'st', async (payload) => {
    const batch = decodeTelemetryPayload(payload);
    assert.ok(batch.ok, !batch.ok ? batch.reason : '');
    sent.push(batch.value);
  }, options, silent);
  t.after(() => { sync.close(); db.close(); rmSync(dir, { recursive: true, force: true }); });
  const range = (b: TelemetryBatch) => [b.records[0]!.seq, b.records[b.records.length - 1]!.seq];
  /** Waits until `count` batches went out, then a little longer to see that no more do. */
  const sentExactly = async (count: number) => {
    await until(`${count} batches sent`, () => sent.length >= count);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(sent.length, count);
  };
  return { db, buffer, sync, sent, range, sentExactly };
}

test('at most `window` batches are unacknowledged; a cumulative ack frees every batch it covers', async (t) => {
  const { buffer, sync, sent, range, sentExactly } = await harness(t, 45);
  sync.setConnected(true);
  await sentExactly(2);
  assert.deepEqual(sent.map(range), [[1, 10], [11, 20]]);
  assert.equal(sent[0]!.backlog, 35, 'the first batch carries the counted backlog');
  assert.ok(sent.every((b) => b.historical), 'records made before the connection are flagged historical');

  sync.handleAck({ v: 1, stream: 'st', seqFrom: 1, seqTo: 20, status: 'stored' });
  assert.equal(buffer.count(), 25, 'acknowledged records are deleted, nothing else');
  await sentExactly(4);
  assert.deepEqual(sent.slice(2).map(range), [[21, 30], [31, 40]]);

  sync.handleAck({ v: 1, stream: 'st', seqFrom: 21, seqTo: 30, status: 'stored' });
  await sentExactly(5);
  assert.deepEqual(range(sent[4]!), [41, 45]);
  sync.handleAck({ v: 1, stream: 'st', seqFrom: 31, seqTo: 45, status: 'stored' });
  assert.equal(buffer.count(), 0);
  assert.equal(sync.acked, 45);
});

test('a refused batch goes to dead_letters and frees its place in the window', async (t) => {
  const { db, buffer, sync, sent, range, sentExactly } = await harness(t, 30);
  sync.setConnected(true);
  await sentExactly(2);
  sync.handleAck({ v: 1, stream: 'st', seqFrom: 1, seqTo: 10, status: 'rejected', reason: 'bad batch' });
  await sentExactly(3);
  assert.deepEqual(range(sent[2]!), [21, 30]);
  assert.equal((db.prepare('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n, 10);
  assert.equal(buffer.count(), 20, 'unacknowledged records stay buffered');
});

test('acks for another stream change nothing; a reconnect re-sends everything unacknowledged', async (t) => {
  const { buffer, sync, sent, range, sentExactly } = await harness(t, 20);
  sync.setConnected(true);
  await sentExactly(2);
  sync.handleAck({ v: 1, stream: 'other', seqFrom: 1, seqTo: 20, status: 'stored' });
  assert.equal(buffer.count(), 20);
  sync.setConnected(false);
  sync.setConnected(true);
  await sentExactly(4);
  assert.deepEqual(sent.slice(2).map(range), [[1, 10], [11, 20]]);
});

test('an idle sync leaves the buffer alone; a record on hold is polled until it is sendable', async (t) => {
  const { buffer, sync, sent, sentExactly } = await harness(t, 1);
  sync.setConnected(true);
  await sentExactly(1);
  sync.handleAck({ v: 1, stream: 'st', seqFrom: 1, seqTo: 1, status: 'stored' });
  let reads = 0;
  const readAfter = buffer.readAfter.bind(buffer);
  buffer.readAfter = (...args) => {
    reads++;
    return readAfter(...args);
  };
  await new Promise((r) => setTimeout(r, 300)); // the pump after the ack finds the buffer empty
  reads = 0;
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(reads, 0, 'nothing buffered: no wakeups to look for records');

  // A record held for its reference value becomes sendable with no event: it is polled for.
  await buffer.append({ ...rec(1), holdUntil: Date.now() + 300 });
  await sentExactly(2);
  assert.equal(sent[1]!.records[0]!.seq, 2);
});

test('thousands of buffered records reach the fleet store exactly once through the window and group commit', async (t) => {
  const h = await startTestFleet();
  t.after(() => h.close());
  const agent = await h.startAgent('sync-1', { sync: { batchSize: 100, window: 8, flushIntervalMs: 10 } });
  const n = 3000;
  await Promise.all(Array.from({ length: n }, (_, i) => agent.buffer.append(rec(i))));
  await until('all records stored and acknowledged', async () => await h.server.telemetry.count('sync-1') >= n && agent.buffer.count() === 0, 60_000);
  const rows = await h.server.telemetry.query({ device: 'sync-1', order: 'oldest', limit: 10_000 });
  assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: n }, (_, i) => i + 1), 'every record once, none twice');
  assert.deepEqual(rows.map((r) => r.prediction), Array.from({ length: n }, (_, i) => i));
});
