import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeMessage,
  decodeTelemetryPayload,
  updateReportSchema,
  type AckKind,
  type Birth,
} from '@edgeloop/protocol';
import { FleetLink } from '../link/fleet-link.js';
import { RecordBuffer, type NewRecord } from '../store/record-buffer.js';
import { UpdateReportStore } from '../store/update-report-store.js';
import type { AgentDb } from '../store/agent-db.js';
import { waitFor } from '@edgeloop/test/support/fixtures';
import { Outbox, type LaneOptions, type OutboxStream } from './outbox.js';
import { TelemetryStream } from './telemetry-stream.js';
import { UpdateReportStream } from './update-report-stream.js';
import { fleetPeer, inProcessBroker, recordingLogger, silent, tempAgentDb } from './test-support.js';

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

interface Sent {
  kind: AckKind;
  payload: Buffer;
  at: number;
}

/** Telemetry ranges [first seq, last seq] of what went out. */
const ranges = (sent: Sent[]) =>
  sent
    .filter((s) => s.kind === 'telemetry')
    .map((s) => {
      const b = decodeTelemetryPayload(s.payload);
      assert.ok(b.ok);
      return [b.value.records[0]!.seq, b.value.records.at(-1)!.seq];
    });

/** An outbox whose payloads land in `sent` (the test plays the fleet), over a buffer of `n` records. */
async function harness(t: { after: (fn: () => void) => void }, n: number, db?: AgentDb) {
  const store = db ? undefined : tempAgentDb(t);
  const buffer = new RecordBuffer(db ?? store!.db);
  await Promise.all(Array.from({ length: n }, (_, i) => buffer.append(rec(i))));
  const sent: Sent[] = [];
  const log = recordingLogger();
  const outbox = new Outbox({
    stream: STREAM,
    publish: async (kind, payload) => void sent.push({ kind, payload, at: Date.now() }),
    log: log.log,
    random: () => 0.5,
  });
  t.after(() => outbox.close());
  const telemetry = (o: Partial<LaneOptions> = {}) =>
    outbox.add(new TelemetryStream(buffer, STREAM, { batchSize: 10, encoding: 'compact' }), lane(o));
  /** Waits until `count` payloads of `kind` went out, then a little longer to see that no more do. */
  const sentExactly = async (count: number, kind: AckKind = 'telemetry') => {
    await waitFor(
      `${count} ${kind} payloads sent`,
      () => sent.filter((s) => s.kind === kind).length >= count || undefined,
      10_000,
      5,
    );
    await sleep(60);
    assert.equal(sent.filter((s) => s.kind === kind).length, count);
  };
  return { db: db ?? store!.db, store, buffer, outbox, sent, log, telemetry, sentExactly };
}

test('at most `window` batches wait for their ack; a cumulative ack frees every batch it covers', async (t) => {
  const { buffer, outbox, sent, telemetry, sentExactly } = await harness(t, 45);
  const l = telemetry({ window: 2 });
  outbox.setConnected(true);
  await sentExactly(2);
  assert.deepEqual(ranges(sent), [
    [1, 10],
    [11, 20],
  ]);
  assert.equal(l.inFlightCount, 2);

  outbox.handleAck({ v: 1, stream: STREAM, seqFrom: 1, seqTo: 20, status: 'stored' });
  assert.equal(buffer.count(), 25, 'acknowledged records are deleted, nothing else');
  await sentExactly(4);
  assert.deepEqual(ranges(sent).slice(2), [
    [21, 30],
    [31, 40],
  ]);

  outbox.handleAck({ v: 1, kind: 'telemetry', stream: STREAM, seqFrom: 21, seqTo: 30, status: 'stored' });
  await sentExactly(5);
  assert.deepEqual(ranges(sent)[4], [41, 45]);
  outbox.handleAck({ v: 1, stream: STREAM, seqFrom: 31, seqTo: 45, status: 'stored' });
  assert.equal(buffer.count(), 0);
  assert.deepEqual(
    outbox.stats().map((s) => [s.kind, s.pending, s.inFlight, s.sent, s.resent, s.acked]),
    [['telemetry', 0, 0, 5, 0, 45]],
  );
});

test('an ack timeout pauses before the re-send: longer each time in a row, never beyond the cap, from the start again after an ack', async (t) => {
  const { buffer, outbox, sent, log, telemetry } = await harness(t, 1);
  telemetry({ window: 1, ackTimeoutMs: 100, backoff: { minMs: 100, maxMs: 400 } });
  outbox.setConnected(true);
  await waitFor('four re-sends', () => sent.length >= 5 || undefined, 10_000, 5);
  outbox.handleAck({ v: 1, stream: STREAM, seqFrom: 1, seqTo: 1, status: 'stored' });
  const pauses = () => log.lines.filter((l) => l.pauseMs !== undefined).map((l) => [l.attempt, l.pauseMs]);
  // Equal jitter with the random half pinned to 0.5: ¾ of 100, 200, 400, then the 400 cap.
  assert.deepEqual(pauses().slice(0, 4), [
    [1, 75],
    [2, 150],
    [3, 300],
    [4, 300],
  ]);
  // Timers never fire early: each re-send came at least ack timeout + pause after the one before.
  for (let i = 1; i < 5; i++) {
    const gap = sent[i]!.at - sent[i - 1]!.at;
    assert.ok(gap >= 100 + (pauses()[i - 1]![1] as number) - 2, `re-send ${i} after ${gap} ms`);
  }

  // The fleet answered: the next timeout starts from the first pause again.
  const before = pauses().length;
  await buffer.append(rec(2));
  await waitFor('the new record times out', () => pauses().length > before || undefined, 10_000, 5);
  assert.deepEqual(pauses()[before], [1, 75]);
  assert.ok(sent.length >= 6);
});

test('a reconnect re-sends everything unacknowledged at once, through a real broker', async (t) => {
  const broker = await inProcessBroker(t);
  const device = 'outbox-reconnect';
  const peer = await fleetPeer(t, broker.url, device);
  const { buffer } = await harness(t, 20);
  const birth = (session: number): Birth => ({
    v: 1,
    type: 'birth',
    deviceId: device,
    session,
    ts: Date.now(),
    agentVersion: 'test',
    arch: 'x64',
    platform: 'linux',
    cpus: 1,
    memTotalMb: 1,
    runtime: { name: 'test', version: '0' },
    models: [],
    stream: STREAM,
    backlog: buffer.count(),
  });
  // The outbox publishes through the real fleet link this time.
  const link: { current?: FleetLink } = {};
  const linked = new Outbox({
    stream: STREAM,
    publish: (kind, payload) => link.current!.publish(`edgeloop/v1/devices/${device}/${kind}`, payload),
    log: silent,
  });
  t.after(() => linked.close());
  linked.add(new TelemetryStream(buffer, STREAM, { batchSize: 10, encoding: 'compact' }), lane({ window: 2 }));
  link.current = new FleetLink({
    mqttUrl: broker.url,
    deviceId: device,
    boot: 1,
    birth,
    onAck: (a) => linked.handleAck(a),
    onDesired: () => undefined,
    onConnectionChange: (c) => linked.setConnected(c),
    reconnectMinMs: 50,
    reconnectMaxMs: 100,
    log: silent,
  });
  t.after(() => link.current!.close());

  const telemetryRanges = () =>
    ranges((peer.received.get('telemetry') ?? []).map((payload) => ({ kind: 'telemetry' as const, payload, at: 0 })));
  await waitFor('two batches at the fleet', () => telemetryRanges().length >= 2 || undefined);
  assert.deepEqual(telemetryRanges(), [
    [1, 10],
    [11, 20],
  ]);
  broker.cut(device);
  await waitFor('both batches again after the reconnect', () => telemetryRanges().length >= 4 || undefined);
  assert.deepEqual(
    telemetryRanges()
      .slice(2)
      .sort((a, b) => a[0]! - b[0]!),
    [
      [1, 10],
      [11, 20],
    ],
  );
  assert.equal(linked.stats()[0]!.resent, 2);

  await peer.ack({ v: 1, stream: STREAM, seqFrom: 1, seqTo: 20, status: 'stored' });
  await waitFor('acked records deleted', () => buffer.count() === 0 || undefined);
  await sleep(100);
  assert.equal(telemetryRanges().length, 4, 'nothing more to send');
});

test('after a restart, what was acked stays deleted and what was not is sent again from SQLite', async (t) => {
  const store = tempAgentDb(t);
  const first = await harness(t, 30, store.db);
  first.telemetry({ window: 3 });
  const reports = new UpdateReportStream(new UpdateReportStore(store.db), STREAM, () => 41, silent);
  first.outbox.add(reports, lane({ window: 1 }));
  new UpdateReportStore(store.db).add({ model: 'm', version: 2, state: 'downloading' });
  new UpdateReportStore(store.db).add({ model: 'm', version: 2, state: 'verified' });
  first.outbox.setConnected(true);
  await first.sentExactly(3);
  await first.sentExactly(1, 'update');
  first.outbox.handleAck({ v: 1, stream: STREAM, seqFrom: 1, seqTo: 10, status: 'stored' });
  first.outbox.handleAck({ v: 1, kind: 'update', stream: STREAM, seqFrom: 1, seqTo: 1, status: 'stored' });
  await first.sentExactly(2, 'update');
  // kill -9: nothing else runs; the database is opened again by the next process.
  first.outbox.close();
  const db = store.reopen();

  const sent: Sent[] = [];
  const outbox = new Outbox({
    stream: STREAM,
    publish: async (kind, payload) => void sent.push({ kind, payload, at: Date.now() }),
    log: silent,
  });
  t.after(() => outbox.close());
  outbox.add(
    new TelemetryStream(new RecordBuffer(db), STREAM, { batchSize: 10, encoding: 'compact' }),
    lane({ window: 3 }),
  );
  outbox.add(new UpdateReportStream(new UpdateReportStore(db), STREAM, () => 42, silent), lane({ window: 1 }));
  outbox.setConnected(true);
  await waitFor(
    'the unacknowledged part sent again',
    () => (ranges(sent).length >= 2 && sent.some((s) => s.kind === 'update')) || undefined,
  );
  await sleep(60);
  assert.deepEqual(ranges(sent), [
    [11, 20],
    [21, 30],
  ]);
  const resentReports = sent
    .filter((s) => s.kind === 'update')
    .map((s) => decodeMessage(updateReportSchema, s.payload));
  assert.deepEqual(
    resentReports.map((r) => r.ok && [r.value.id, r.value.state, r.value.session, r.value.reportSeq]),
    [[2, 'verified', 42, 1]],
    'the unacked report, stamped for the new session',
  );
});

test('acks for positions never sent, repeated acks and acks for another stream change nothing', async (t) => {
  const { buffer, outbox, sent, telemetry, sentExactly } = await harness(t, 30);
  const l = telemetry({ window: 2 });
  outbox.setConnected(true);
  await sentExactly(2);

  outbox.handleAck({ v: 1, stream: STREAM, seqFrom: 21, seqTo: 30, status: 'stored' });
  outbox.handleAck({ v: 1, stream: STREAM, seqFrom: 1, seqTo: 30, status: 'stored' });
  outbox.handleAck({ v: 1, stream: STREAM, seqFrom: 10, seqTo: 1, status: 'stored' });
  assert.equal(buffer.count(), 30, 'records the fleet was never sent are not deleted on its word');
  assert.equal(l.stats.ignoredAcks, 3);
  outbox.handleAck({ v: 1, stream: 'another', seqFrom: 1, seqTo: 10, status: 'stored' });
  outbox.handleAck({ v: 1, kind: 'sample', stream: STREAM, seqFrom: 1, seqTo: 10, status: 'stored' });
  assert.equal(buffer.count(), 30, 'acks for another stream id or for a kind with no stream here are ignored');

  outbox.handleAck({ v: 1, stream: STREAM, seqFrom: 1, seqTo: 10, status: 'stored' });
  await sentExactly(3);
  assert.equal(l.stats.acked, 10);
  outbox.handleAck({ v: 1, stream: STREAM, seqFrom: 1, seqTo: 10, status: 'stored' });
  assert.equal(l.stats.acked, 10, 'a repeated ack deletes nothing more');
  assert.equal(l.inFlightCount, 2, 'and frees no other batch');
  await sentExactly(3);
  assert.deepEqual(ranges(sent), [
    [1, 10],
    [11, 20],
    [21, 30],
  ]);
});

test('a refused batch is set aside and frees its place in the window', async (t) => {
  const { db, buffer, outbox, sent, telemetry, sentExactly } = await harness(t, 30);
  const l = telemetry({ window: 2 });
  outbox.setConnected(true);
  await sentExactly(2);
  outbox.handleAck({ v: 1, stream: STREAM, seqFrom: 1, seqTo: 10, status: 'rejected', reason: 'bad batch' });
  await sentExactly(3);
  assert.deepEqual(ranges(sent)[2], [21, 30]);
  assert.equal((db.prepare('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n, 10);
  assert.equal(buffer.count(), 20, 'unacknowledged records stay buffered');
  assert.equal(l.stats.rejected, 10);
});

test('a stuck stream holds up no other: reports flow while telemetry gets no acks and another stream cannot read', async (t) => {
  const { db, outbox, sent, telemetry } = await harness(t, 5);
  const tl = telemetry({ window: 1, ackTimeoutMs: 50, backoff: { minMs: 20, maxMs: 40 } });
  let reads = 0;
  const broken: OutboxStream = {
    kind: 'reference',
    next: () => {
      reads++;
      throw new Error('disk I/O error');
    },
    acknowledge: () => 0,
    reject: () => 0,
    pending: () => 1,
  };
  const bl = outbox.add(broken, lane({ window: 1, backoff: { minMs: 20, maxMs: 40 } }));
  const reports = new UpdateReportStore(db);
  outbox.add(new UpdateReportStream(reports, STREAM, () => 7, silent), lane({ window: 4 }));
  outbox.setConnected(true);
  for (const state of ['downloading', 'verified', 'active'] as const) {
    reports.add({ model: 'm', version: 3, state });
    outbox.wake('update');
  }
  await waitFor('three reports sent', () => sent.filter((s) => s.kind === 'update').length >= 3 || undefined);
  const ids = sent
    .filter((s) => s.kind === 'update')
    .map((s) => {
      const r = decodeMessage(updateReportSchema, s.payload);
      assert.ok(r.ok);
      return r.value.id!;
    });
  for (const id of ids)
    outbox.handleAck({ v: 1, kind: 'update', stream: STREAM, seqFrom: id, seqTo: id, status: 'stored' });
  assert.equal(reports.count(), 0, 'every report acked and deleted');

  // The resend follows each timeout only after its pause, so wait for the sends themselves.
  await waitFor(
    'telemetry timed out twice and the broken stream failed twice',
    () => (tl.stats.timeouts >= 2 && bl.stats.readErrors >= 2) || undefined,
  );
  await waitFor('the unacked telemetry batch goes again after each pause', () => ranges(sent).length >= 3 || undefined);
  assert.ok(reads >= 2);
});
