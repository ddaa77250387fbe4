/**
 * Lanes against a fleet server that answers late, loses batches, or is saturated. The timescale
 * is shrunk (an ack timeout floor of 100 ms stands for the 15 s default), so a server "30 s
 * behind" here is one whose acks come 300 ms after each batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { decodeTelemetryPayload, deviceTopic, encodeMessage, type Ack } from '@edgeloop/protocol';
import { waitFor } from '@edgeloop/test/support/fixtures';
import { FleetLink } from '../link/fleet-link.js';
import { RecordBuffer, type NewRecord } from '../store/record-buffer.js';
import { Outbox, type LaneOptions } from './outbox.js';
import { TelemetryStream } from './telemetry-stream.js';
import { inProcessBroker, silent, tempAgentDb } from './test-support.js';

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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A fleet that handles a device's batches in arrival order, each acked `lagMs()` after it
 * arrived (later batches never before earlier ones), and stores every record once.
 */
function slowFleet(lagMs: () => number) {
  const stored = new Set<number>();
  const fleet = {
    outbox: undefined as Outbox | undefined,
    /** Batches that arrive while this is true vanish (a server restarted without its broker session). */
    losing: false,
    batches: 0,
    duplicates: 0,
    stored,
    lastAckAt: 0,
    receive(payload: Buffer) {
      if (fleet.losing) return;
      fleet.batches++;
      const decoded = decodeTelemetryPayload(payload);
      assert.ok(decoded.ok);
      const seqs = decoded.value.records.map((r) => r.seq);
      const due = Math.max(Date.now() + lagMs(), fleet.lastAckAt);
      fleet.lastAckAt = due;
      setTimeout(() => {
        for (const seq of seqs) {
          if (stored.has(seq)) fleet.duplicates++;
          stored.add(seq);
        }
        const ack: Ack = { v: 1, stream: STREAM, seqFrom: seqs[0]!, seqTo: seqs.at(-1)!, status: 'stored' };
        fleet.outbox?.handleAck(ack);
      }, due - Date.now());
    },
  };
  return fleet;
}

async function harness(
  t: { after: (fn: () => void) => void },
  fleet: ReturnType<typeof slowFleet>,
  o: Partial<LaneOptions>,
) {
  const { db } = tempAgentDb(t);
  const buffer = new RecordBuffer(db);
  const outbox = new Outbox({
    stream: STREAM,
    publish: async (_kind, payload) => fleet.receive(payload),
    log: silent,
    random: () => 0.5,
  });
  fleet.outbox = outbox;
  buffer.onAppend(() => outbox.wake('telemetry'));
  t.after(() => outbox.close());
  const lane = outbox.add(
    new TelemetryStream(buffer, STREAM, { batchSize: o.window === 1 ? 1000 : 20, encoding: 'compact' }),
    {
      window: 4,
      ackTimeoutMs: 100,
      ackTimeoutMaxMs: 5000,
      coalesceMs: 0,
      maxBytesPerSecond: 0,
      backoff: { minMs: 20, maxMs: 200 },
      waitPollMs: 250,
      ...o,
    },
  );
  return { buffer, outbox, lane };
}

/** Appends `n` records, one every `everyMs`. */
async function produce(buffer: RecordBuffer, n: number, everyMs: number, first = 0): Promise<void> {
  for (let i = first; i < first + n; i++) {
    await buffer.append(rec(i));
    await sleep(everyMs);
  }
}

const allStored = (fleet: ReturnType<typeof slowFleet>, n: number) =>
  Array.from({ length: n }, (_, i) => i + 1).every((seq) => fleet.stored.has(seq));

test('a server 3× the ack timeout behind gets each batch once, plus a probe or two; nothing is lost', async (t) => {
  const fleet = slowFleet(() => 300);
  const { buffer, outbox, lane } = await harness(t, fleet, {});
  outbox.setConnected(true);
  await produce(buffer, 300, 5);
  await waitFor('every record acked', () => buffer.count() === 0 || undefined, 20_000, 10);

  assert.ok(allStored(fleet, 300), 'every record reached the fleet');
  t.diagnostic(
    JSON.stringify({ ...lane.stats, timeoutMs: lane.ackTimeoutMs, dup: fleet.duplicates, batches: fleet.batches }),
  );
  // The first batch went out before any ack was measured, so it may time out once (or twice
  // under a loaded machine); after that the lane knows acks take 300 ms and waits for them.
  assert.ok(lane.stats.timeouts <= 3, `${lane.stats.timeouts} timeouts`);
  assert.ok(lane.stats.resent <= lane.stats.timeouts, `${lane.stats.resent} re-sends: one probe per timeout, no more`);
  assert.ok(fleet.duplicates <= lane.stats.resentItems, `${fleet.duplicates} duplicate records`);
  assert.ok(lane.ackTimeoutMs > 300, `the ack timeout (${lane.ackTimeoutMs} ms) grew past the ack latency`);
  // While the window was full records piled up, so batches grew: far fewer than one per record.
  assert.ok(lane.stats.sent < 100, `${lane.stats.sent} batches for 300 records`);
});

test('acks coming slowly later: the timeout grows with them, and a lone batch then waits the learnt time', async (t) => {
  const start = Date.now();
  let lag = () => 20 + (Date.now() - start) / 3;
  // From 20 ms to about 600 ms over the run (the floor is 100 ms).
  const fleet = slowFleet(() => lag());
  const { buffer, outbox, lane } = await harness(t, fleet, {});
  outbox.setConnected(true);
  await produce(buffer, 160, 10);
  await waitFor('every record acked', () => buffer.count() === 0 || undefined, 20_000, 10);
  const grown = lane.ackTimeoutMs;
  assert.ok(grown > 500, `the ack timeout grew to ${grown} ms`);
  // Acks keep coming, so the oldest batch keeps being freed: the ack timer never runs out,
  // unless a stall of the loaded machine held the very first acks past the floor.
  assert.ok(lane.stats.timeouts <= 1, `${lane.stats.timeouts} timeouts`);
  assert.ok(lane.stats.resent <= lane.stats.timeouts);
  const before = { ...lane.stats };

  // A lone batch after a quiet spell, acked four times the floor later: with the floor as its
  // timeout it would be re-sent twice; with the learnt one it goes once.
  lag = () => 400;
  await buffer.append(rec(160));
  await waitFor('the lone record acked', () => buffer.count() === 0 || undefined, 20_000, 10);
  assert.ok(allStored(fleet, 161));
  assert.equal(lane.stats.timeouts, before.timeouts);
  assert.equal(lane.stats.resent, before.resent);
  assert.ok(fleet.duplicates <= lane.stats.resentItems);
});

test('batches the server lost are found by one probe and sent again once each', async (t) => {
  const fleet = slowFleet(() => 10);
  const { buffer, outbox, lane } = await harness(t, fleet, { window: 4 });
  await Promise.all(Array.from({ length: 80 }, (_, i) => buffer.append(rec(i))));
  fleet.losing = true;
  outbox.setConnected(true);
  await waitFor('four batches on the wire', () => lane.inFlightCount === 4 || undefined, 10_000, 5);
  fleet.losing = false;
  await waitFor('every record acked', () => buffer.count() === 0 || undefined, 20_000, 10);

  assert.ok(allStored(fleet, 80));
  assert.equal(lane.stats.timeouts, 1);
  // The probe (the newest batch) came back alone, so the three before it were lost: each once more.
  assert.equal(lane.stats.resent, 4);
  assert.equal(lane.stats.resentItems, 80);
  assert.equal(fleet.duplicates, 0);
});

test('a timeout halves the window; acks grow it back', async (t) => {
  const fleet = slowFleet(() => 10);
  const { buffer, outbox, lane } = await harness(t, fleet, { window: 4 });
  await Promise.all(Array.from({ length: 80 }, (_, i) => buffer.append(rec(i))));
  fleet.losing = true;
  outbox.setConnected(true);
  await waitFor('a timeout', () => lane.stats.timeouts === 1 || undefined, 10_000, 5);
  assert.equal(outbox.stats()[0]!.window, 2);
  fleet.losing = false;
  await waitFor('every record acked', () => buffer.count() === 0 || undefined, 20_000, 10);
  const regrown = outbox.stats()[0]!.window;
  assert.ok(regrown > 2 && regrown < 4, `about one batch more per window of acks (${regrown})`);
  await Promise.all(Array.from({ length: 80 }, (_, i) => buffer.append(rec(80 + i))));
  await waitFor('the next records acked', () => buffer.count() === 0 || undefined, 20_000, 10);
  assert.equal(outbox.stats()[0]!.window, 4, 'never beyond the configured window');
});

test('while the window is full records pile up and leave together in the next batch', async (t) => {
  const fleet = slowFleet(() => 200);
  const { buffer, outbox, lane } = await harness(t, fleet, { window: 1, ackTimeoutMs: 5000 });
  outbox.setConnected(true);
  await buffer.append(rec(0));
  await waitFor('the first batch out', () => lane.stats.sent === 1 || undefined, 10_000, 5);
  await Promise.all(Array.from({ length: 50 }, (_, i) => buffer.append(rec(i + 1))));
  await waitFor('every record acked', () => buffer.count() === 0 || undefined, 20_000, 10);
  assert.equal(lane.stats.sent, 2, 'one batch for the first record, one for the 50 stored meanwhile');
  assert.ok(allStored(fleet, 51));
});

test('through a real broker: a fleet that lost the batches on the wire gets each again once, after one probe', async (t) => {
  const broker = await inProcessBroker(t);
  const device = 'slow-fleet-lost';
  const { db } = tempAgentDb(t);
  const buffer = new RecordBuffer(db);
  await Promise.all(Array.from({ length: 80 }, (_, i) => buffer.append(rec(i))));
  const link: { current?: FleetLink } = {};
  const outbox = new Outbox({
    stream: STREAM,
    publish: (kind, payload) => link.current!.publish(deviceTopic(device, kind), payload),
    log: silent,
    random: () => 0.5,
  });
  t.after(() => outbox.close());
  const lane = outbox.add(new TelemetryStream(buffer, STREAM, { batchSize: 20, encoding: 'compact' }), {
    window: 4,
    ackTimeoutMs: 300,
    ackTimeoutMaxMs: 5000,
    coalesceMs: 0,
    maxBytesPerSecond: 0,
    backoff: { minMs: 20, maxMs: 200 },
    waitPollMs: 250,
  });

  // The fleet: a peer on the broker that ignores the first four batches (its session was gone
  // when they came), then acks each batch it gets, in order, 50 ms later.
  const fleet = await mqtt.connectAsync(broker.url, { clientId: 'fleet-slow', reconnectPeriod: 0 });
  const stored = new Map<number, number>();
  let arrived = 0;
  fleet.on('message', (_topic, payload) => {
    if (++arrived <= 4) return;
    const decoded = decodeTelemetryPayload(payload);
    assert.ok(decoded.ok);
    const seqs = decoded.value.records.map((r) => r.seq);
    for (const seq of seqs) stored.set(seq, (stored.get(seq) ?? 0) + 1);
    const ack: Ack = { v: 1, stream: STREAM, seqFrom: seqs[0]!, seqTo: seqs.at(-1)!, status: 'stored' };
    setTimeout(() => void fleet.publishAsync(deviceTopic(device, 'ack'), encodeMessage(ack), { qos: 1 }), 50);
  });
  await fleet.subscribeAsync(deviceTopic(device, 'telemetry'), { qos: 1 });

  link.current = new FleetLink({
    mqttUrl: broker.url,
    deviceId: device,
    boot: 1,
    birth: (session) => ({
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
    }),
    onAck: (a) => outbox.handleAck(a),
    onDesired: () => undefined,
    onConnectionChange: (c) => outbox.setConnected(c),
    reconnectMinMs: 50,
    reconnectMaxMs: 100,
    log: silent,
  });
  try {
    await waitFor('every record acked', () => buffer.count() === 0 || undefined, 20_000, 10);
  } finally {
    // Both clients go before the broker's own cleanup, which waits for its connections to end.
    await link.current.close();
    await fleet.endAsync(true);
  }
  assert.deepEqual(
    [...stored.keys()].sort((a, b) => a - b),
    Array.from({ length: 80 }, (_, i) => i + 1),
  );
  assert.ok(
    [...stored.values()].every((n) => n === 1),
    'no record reached the fleet twice',
  );
  assert.equal(lane.stats.timeouts, 1);
  assert.equal(lane.stats.resent, 4, 'the probe, then the three batches it showed were lost');
});
