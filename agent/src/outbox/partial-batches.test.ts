/**
 * Self-clocked partial batches (lane.ts): a batch that carries every record there is waits for
 * the previous such batch's ack, so a fleet that acks late gets fewer, larger batches; full
 * batches still fill the window. The test plays the fleet and acks when it chooses, so the
 * assertions are about which ranges went out, in which order — never about how long anything took.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTelemetryPayload } from '@edgeloop/protocol';
import { waitFor } from '@edgeloop/test/support/fixtures';
import { RecordBuffer, type NewRecord } from '../store/record-buffer.js';
import { Outbox, type LaneOptions } from './outbox.js';
import { TelemetryStream } from './telemetry-stream.js';
import { silent, tempAgentDb } from './test-support.js';

const STREAM = 'st';
const rec = (i: number): NewRecord => ({
  ts: 1_700_000_000_000 + i,
  model: 'm',
  version: 1,
  output: [i],
  prediction: i,
  latencyMs: 1,
  features: { f: i },
});

/**
 * A lane over a real SQLite buffer whose batches land in `ranges` ([first seq, last seq]). The
 * fleet acks a batch only when the test calls `ack`, unless `autoAck` is set (a fast fleet).
 */
async function harness(
  t: { after: (fn: () => void) => void },
  o: Partial<LaneOptions> & { batchSize?: number; autoAck?: boolean } = {},
) {
  const { db } = tempAgentDb(t);
  const buffer = new RecordBuffer(db);
  const ranges: Array<[number, number]> = [];
  const outbox: Outbox = new Outbox({
    stream: STREAM,
    publish: async (_kind, payload) => {
      const decoded = decodeTelemetryPayload(payload);
      assert.ok(decoded.ok);
      const range: [number, number] = [decoded.value.records[0]!.seq, decoded.value.records.at(-1)!.seq];
      ranges.push(range);
      if (o.autoAck) setImmediate(() => ack(...range));
    },
    log: silent,
    random: () => 0.5,
  });
  const ack = (seqFrom: number, seqTo: number) =>
    outbox.handleAck({ v: 1, stream: STREAM, seqFrom, seqTo, status: 'stored' });
  t.after(() => outbox.close());
  buffer.onAppend(() => outbox.wake('telemetry'));
  const lane = outbox.add(
    new TelemetryStream(buffer, STREAM, { batchSize: o.batchSize ?? 1000, encoding: 'compact' }),
    {
      window: 8,
      ackTimeoutMs: 60_000,
      ackTimeoutMaxMs: 300_000,
      coalesceMs: 0,
      maxBytesPerSecond: 0,
      backoff: { minMs: 20, maxMs: 200 },
      waitPollMs: 250,
      partialBatchesInFlight: 1,
      ...o,
    },
  );
  const batches = (n: number) =>
    waitFor(`${n} batches sent`, () => ranges.length >= n || undefined, 10_000, 2).then(() => {
      assert.equal(ranges.length, n, `exactly ${n} batches: ${JSON.stringify(ranges)}`);
    });
  return { buffer, outbox, lane, ranges, ack, batches };
}

const append = (buffer: RecordBuffer, from: number, to: number) =>
  Promise.all(Array.from({ length: to - from + 1 }, (_, i) => buffer.append(rec(from + i))));

test('a fleet that acks late gets one batch per ack, each with every record made meanwhile, and no re-sends', async (t) => {
  const { buffer, outbox, lane, ranges, ack, batches } = await harness(t);
  outbox.setConnected(true);
  await buffer.append(rec(0));
  await batches(1);
  // Records made one by one while the first batch waits: each wakes the lane, none goes.
  for (let i = 1; i < 30; i++) await buffer.append(rec(i));
  assert.equal(lane.partialInFlightCount, 1);
  ack(1, 1);
  await batches(2);
  for (let i = 30; i < 45; i++) await buffer.append(rec(i));
  ack(2, 30);
  await batches(3);
  ack(31, 45);
  await waitFor('all acked', () => buffer.count() === 0 || undefined, 10_000, 2);

  assert.deepEqual(ranges, [
    [1, 1],
    [2, 30],
    [31, 45],
  ]);
  assert.equal(lane.stats.sent, 3);
  assert.equal(lane.stats.sentItems, 45);
  assert.equal(lane.stats.partialSent, 3);
  assert.equal(lane.stats.resent, 0);
  assert.equal(lane.stats.timeouts, 0);
});

test('the old behaviour with partialBatchesInFlight = window: a batch per wake, acked or not', async (t) => {
  const { buffer, outbox, lane, ranges, batches } = await harness(t, { partialBatchesInFlight: 8 });
  outbox.setConnected(true);
  for (let i = 0; i < 4; i++) {
    await buffer.append(rec(i));
    await batches(i + 1);
  }
  assert.deepEqual(ranges, [
    [1, 1],
    [2, 2],
    [3, 3],
    [4, 4],
  ]);
  assert.equal(lane.inFlightCount, 4);
});

test('a fleet that acks at once still gets a batch per record when records come one at a time', async (t) => {
  const { buffer, outbox, lane, ranges } = await harness(t, { autoAck: true, coalesceMs: 5 });
  outbox.setConnected(true);
  for (let i = 0; i < 10; i++) {
    await buffer.append(rec(i));
    await waitFor(`record ${i + 1} acked`, () => buffer.count() === 0 || undefined, 10_000, 2);
  }
  assert.deepEqual(
    ranges,
    Array.from({ length: 10 }, (_, i) => [i + 1, i + 1]),
  );
  assert.equal(lane.stats.resent, 0);
  // Records stored together still leave together.
  await append(buffer, 10, 29);
  await waitFor('the burst acked', () => buffer.count() === 0 || undefined, 10_000, 2);
  assert.deepEqual(ranges.at(-1), [11, 30]);
  assert.equal(ranges.length, 11);
});

test('full batches still fill the window while a partial one waits for its ack', async (t) => {
  const { buffer, outbox, lane, ranges, ack, batches } = await harness(t, { batchSize: 10 });
  await append(buffer, 0, 34);
  outbox.setConnected(true);
  await batches(4);
  assert.deepEqual(ranges, [
    [1, 10],
    [11, 20],
    [21, 30],
    [31, 35],
  ]);
  // A full batch's worth arrives behind the partial one: it goes, the rest waits.
  await append(buffer, 35, 49);
  await batches(5);
  assert.deepEqual(ranges[4], [36, 45]);
  assert.equal(lane.inFlightCount, 5);
  assert.equal(lane.partialInFlightCount, 1);
  ack(1, 35);
  await batches(6);
  assert.deepEqual(ranges[5], [46, 50]);
  ack(36, 50);
  await waitFor('all acked', () => buffer.count() === 0 || undefined, 10_000, 2);
  assert.equal(lane.stats.resent, 0);
  assert.equal(lane.stats.partialSent, 2);
});

test('after a reconnect everything unacknowledged goes again, partial batch included', async (t) => {
  const { buffer, outbox, lane, ranges, ack, batches } = await harness(t, { batchSize: 4 });
  outbox.setConnected(true);
  await buffer.append(rec(0));
  await batches(1);
  // Five more: four make a full batch, which goes; the fifth waits behind the partial [1, 1].
  await append(buffer, 1, 5);
  await batches(2);
  assert.deepEqual(ranges[1], [2, 5]);
  outbox.setConnected(false);
  outbox.setConnected(true);
  await batches(4);
  assert.deepEqual(ranges.slice(2), [
    [1, 4],
    [5, 6],
  ]);
  assert.equal(lane.stats.resent, 2);
  assert.equal(lane.stats.resentItems, 6);
  // Late acks of the first copies delete what they name and free nothing in flight.
  ack(1, 1);
  ack(2, 5);
  ack(1, 4);
  ack(5, 6);
  await waitFor('all acked', () => buffer.count() === 0 || undefined, 10_000, 2);
  assert.equal(lane.inFlightCount, 0);
  assert.equal(ranges.length, 4);
});

test('a partial batch whose ack timed out is probed, and the records behind it go on without waiting for that ack', async (t) => {
  const { buffer, outbox, lane, ranges, ack, batches } = await harness(t, { ackTimeoutMs: 300 });
  outbox.setConnected(true);
  await buffer.append(rec(0));
  await batches(1);
  await append(buffer, 1, 3);
  // The fleet lost [1, 1]: after the timeout and a pause the lane sends it again, and the
  // records made meanwhile no longer wait behind it (it may never be answered).
  await batches(3);
  assert.deepEqual(ranges.slice(1), [
    [1, 1],
    [2, 4],
  ]);
  assert.equal(lane.stats.timeouts, 1);
  ack(1, 1);
  ack(2, 4);
  await waitFor('all acked', () => buffer.count() === 0 || undefined, 10_000, 2);
  assert.equal(lane.stats.resent, 1);
  assert.equal(lane.stats.resentItems, 1);
});

test('a partial batch the fleet never answers does not hold the records made after it', async (t) => {
  const { buffer, outbox, ranges, ack, batches } = await harness(t, { ackTimeoutMs: 300 });
  outbox.setConnected(true);
  await buffer.append(rec(0));
  await batches(1);
  await append(buffer, 1, 3);
  // [1, 1] is never acked (a batch the fleet cannot store); later records are.
  await waitFor('[2, 4] sent', () => ranges.some(([a, b]) => a === 2 && b === 4) || undefined, 10_000, 2);
  ack(2, 4);
  await append(buffer, 4, 5);
  await waitFor('[5, 6] sent', () => ranges.some(([a, b]) => a === 5 && b === 6) || undefined, 10_000, 2);
});

test('a wall clock set back does not hold partial batches back', async (t) => {
  const { buffer, outbox, ranges, batches } = await harness(t, { autoAck: true });
  const realNow = Date.now;
  t.after(() => (Date.now = realNow));
  outbox.setConnected(true);
  await buffer.append(rec(0));
  await batches(1);
  // NTP corrects a clock that ran an hour ahead since boot.
  Date.now = () => realNow() - 3_600_000;
  await append(buffer, 1, 3);
  await waitFor('all sent', () => ranges.at(-1)?.[1] === 4 || undefined, 10_000, 2);
  await waitFor('all acked', () => buffer.count() === 0 || undefined, 10_000, 2);
});
