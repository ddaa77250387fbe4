import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTelemetryPayload, type TelemetryBatch } from '@edgeloop/protocol';
import { RecordBuffer, type NewRecord } from '../store/record-buffer.js';
import { waitFor } from '@edgeloop/test/support/fixtures';
import { startTestFleet, until } from '@edgeloop/test/support/in-process-fleet';
import { Outbox, type LaneOptions } from './outbox.js';
import { TelemetryStream } from './telemetry-stream.js';
import { silent, tempAgentDb } from './test-support.js';

const rec = (i: number, ts = 1_700_000_000_000 + i): NewRecord => ({
  ts,
  model: 'm',
  version: 1,
  output: [i],
  prediction: i,
  latencyMs: 1,
  features: { f: i },
});
const lane = (o: Partial<LaneOptions> = {}): LaneOptions => ({
  window: 2,
  ackTimeoutMs: 60_000,
  ackTimeoutMaxMs: 300_000,
  coalesceMs: 0,
  maxBytesPerSecond: 0,
  backoff: { minMs: 1000, maxMs: 60_000 },
  waitPollMs: 250,
  ...o,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A buffer of records and a telemetry stream whose batches land in `sent` (the test plays the fleet). */
async function harness(
  t: { after: (fn: () => void) => void },
  records: NewRecord[],
  o: Partial<LaneOptions> = {},
  dropped = () => 0,
) {
  const { db } = tempAgentDb(t);
  const buffer = new RecordBuffer(db);
  await Promise.all(records.map((r) => buffer.append(r)));
  const sent: Array<TelemetryBatch & { at: number; bytes: number }> = [];
  const outbox = new Outbox({
    stream: 'st',
    publish: async (_kind, payload) => {
      const batch = decodeTelemetryPayload(payload);
      assert.ok(batch.ok, !batch.ok ? batch.reason : '');
      sent.push({ ...batch.value, at: Date.now(), bytes: payload.length });
    },
    log: silent,
  });
  t.after(() => outbox.close());
  const stream = new TelemetryStream(buffer, 'st', { batchSize: 10, encoding: 'compact' }, dropped);
  outbox.add(stream, lane(o));
  buffer.onAppend(() => outbox.wake('telemetry'));
  const range = (b: TelemetryBatch) => [b.records[0]!.seq, b.records[b.records.length - 1]!.seq];
  const sentExactly = async (count: number) => {
    await waitFor(`${count} batches sent`, () => sent.length >= count || undefined, 10_000, 5);
    await sleep(60);
    assert.equal(sent.length, count);
  };
  return { buffer, outbox, sent, range, sentExactly };
}

test('records made before the connection leave flagged historical, never in a batch with live ones; batches carry backlog and drops', async (t) => {
  const old = Array.from({ length: 15 }, (_, i) => rec(i, Date.now() - 60_000 + i));
  const { buffer, outbox, sent, range, sentExactly } = await harness(t, old, { window: 8 }, () => 3);
  outbox.setConnected(true);
  await sentExactly(2);
  await buffer.append(rec(100, Date.now() + 5));
  await sentExactly(3);
  assert.deepEqual(sent.map(range), [
    [1, 10],
    [11, 15],
    [16, 16],
  ]);
  assert.deepEqual(
    sent.map((b) => b.historical ?? false),
    [true, true, false],
  );
  assert.deepEqual(
    sent.map((b) => b.dropped),
    [3, 3, 3],
  );
  assert.equal(sent[0]!.backlog, 5, 'the first batch carries the counted backlog');
});

test('an idle stream leaves the buffer alone; a record on hold is polled for until it is sendable', async (t) => {
  const { buffer, outbox, sent, sentExactly } = await harness(t, [rec(1)]);
  outbox.setConnected(true);
  await sentExactly(1);
  outbox.handleAck({ v: 1, stream: 'st', seqFrom: 1, seqTo: 1, status: 'stored' });
  let reads = 0;
  const readAfter = buffer.readAfter.bind(buffer);
  buffer.readAfter = (...args) => {
    reads++;
    return readAfter(...args);
  };
  await sleep(300); // the pump after the ack finds the buffer empty
  reads = 0;
  await sleep(1000);
  assert.equal(reads, 0, 'nothing buffered: no wakeups to look for records');

  // A record held for its reference value becomes sendable with no event: it is polled for.
  await buffer.append({ ...rec(2), holdUntil: Date.now() + 300 });
  await sentExactly(2);
  assert.equal(sent[1]!.records[0]!.seq, 2);
});

test('the byte-rate cap spaces batches out', async (t) => {
  const rate = 300;
  const { outbox, sent, sentExactly } = await harness(
    t,
    Array.from({ length: 40 }, (_, i) => rec(i)),
    { window: 8, maxBytesPerSecond: rate },
  );
  // Measured from before the first send could start: a stall between a batch's release and the
  // harness noting it can then only lengthen what is measured, never shorten it.
  const t0 = Date.now();
  outbox.setConnected(true);
  await sentExactly(4);
  const bytes = sent.reduce((n, b) => n + b.bytes, 0);
  const elapsed = sent[3]!.at - t0;
  // A full bucket (one second's worth) goes at once; every byte beyond it waits for the rate.
  assert.ok(bytes > 1.5 * rate, `the batches (${bytes} bytes) are more than the bucket holds`);
  // 1 ms for Date.now()'s granularity at either end.
  assert.ok(elapsed >= ((bytes - rate) / rate) * 1000 - 2, `${bytes} bytes in ${elapsed} ms`);
});

test('thousands of buffered records reach the fleet store exactly once through the window and group commit', async (t) => {
  const h = await startTestFleet();
  t.after(() => h.close());
  const agent = await h.startAgent('sync-1', { sync: { batchSize: 100, window: 8, flushIntervalMs: 10 } });
  const n = 3000;
  // Recent timestamps: records older than buffer.maxAgeDays (30) are dropped by housekeeping,
  // which on a busy machine could run before the last of them were sent.
  const now = Date.now();
  await Promise.all(Array.from({ length: n }, (_, i) => agent.buffer.append(rec(i, now - n + i))));
  await until(
    'all records stored and acknowledged',
    async () => (await h.server.telemetry.count('sync-1')) >= n && agent.buffer.count() === 0,
    60_000,
  );
  const rows = await h.server.telemetry.query({ device: 'sync-1', order: 'oldest', limit: 10_000 });
  assert.deepEqual(
    rows.map((r) => r.seq),
    Array.from({ length: n }, (_, i) => i + 1),
    'every record once, none twice',
  );
  assert.deepEqual(
    rows.map((r) => r.prediction),
    Array.from({ length: n }, (_, i) => i),
  );
});

test('a batch is partial when it takes every record there is; asked for full batches only, the stream reads none', async (t) => {
  const { db } = tempAgentDb(t);
  const buffer = new RecordBuffer(db);
  const connectedSince = 1_700_000_000_005;
  // Five historical records (made before the connection), then three live ones.
  await Promise.all(Array.from({ length: 8 }, (_, i) => buffer.append(rec(i))));
  const stream = new TelemetryStream(buffer, 'st', { batchSize: 4, encoding: 'compact' });

  const full = stream.next(0, { connectedSince });
  assert.deepEqual([full?.from, full?.to, full?.partial], [1, 4, undefined]);
  // Cut at the first live record, with live ones behind it: not the tail, so not partial.
  const cut = stream.next(4, { connectedSince });
  assert.deepEqual([cut?.from, cut?.to, cut?.partial], [5, 5, undefined]);
  const tail = stream.next(5, { connectedSince });
  assert.deepEqual([tail?.from, tail?.to, tail?.partial], [6, 8, true]);

  assert.equal(stream.next(5, { connectedSince, fullOnly: true }), undefined);
  await buffer.append(rec(8));
  const filled = stream.next(5, { connectedSince, fullOnly: true });
  assert.deepEqual([filled?.from, filled?.to, filled?.partial], [6, 9, undefined]);
  // A re-send of exactly one batch reads it whatever it is.
  assert.deepEqual(stream.next(5, { connectedSince, until: 7 })?.to, 7);
});
