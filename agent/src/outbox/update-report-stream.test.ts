import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ackSchema,
  decodeMessage,
  deviceTopic,
  encodeMessage,
  updateReportSchema,
  type UpdateReport,
} from '@edgeloop/protocol';
import { UpdateReportStore, MAX_QUEUED_REPORTS } from '../store/update-report-store.js';
import { waitFor } from '@edgeloop/test/support/fixtures';
import { startTestFleet } from '@edgeloop/test/support/in-process-fleet';
import { collect, connectOrThrow } from '@edgeloop/test/support/mosquitto';
import { UpdateReportStream } from './update-report-stream.js';
import { silent, tempAgentDb } from './test-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a report sent again on the same session keeps its reportSeq; on a new session it is stamped anew from 1', (t) => {
  const { db } = tempAgentDb(t);
  const store = new UpdateReportStore(db);
  let session = 5;
  const stream = new UpdateReportStream(store, 'st', () => session, silent);
  store.add({ model: 'm', version: 2, state: 'downloading' }, 1000);
  store.add({ model: 'm', version: 2, state: 'verified' }, 2000);
  const stamp = (after: number) => {
    const batch = stream.next(after);
    assert.ok(batch);
    const r = decodeMessage(updateReportSchema, batch.payload);
    assert.ok(r.ok, !r.ok ? r.reason : '');
    assert.equal(batch.from, r.value.id);
    return [r.value.id, r.value.state, r.value.ts, r.value.session, r.value.reportSeq, r.value.stream];
  };
  assert.deepEqual(
    [stamp(0), stamp(1)],
    [
      [1, 'downloading', 1000, 5, 1, 'st'],
      [2, 'verified', 2000, 5, 2, 'st'],
    ],
  );
  assert.deepEqual(
    [stamp(0), stamp(1)],
    [
      [1, 'downloading', 1000, 5, 1, 'st'],
      [2, 'verified', 2000, 5, 2, 'st'],
    ],
    'the same stamps when sent again',
  );
  session = 6;
  assert.deepEqual(stamp(1), [2, 'verified', 2000, 6, 1, 'st'], 'a new session starts over at 1');
  assert.equal(stream.acknowledge(1, 2), 2);
  assert.equal(stream.next(0), undefined);
});

test('the queue of reports is bounded: beyond the cap the oldest go', (t) => {
  const { db } = tempAgentDb(t);
  const store = new UpdateReportStore(db);
  db.transaction(() => {
    for (let i = 0; i < MAX_QUEUED_REPORTS + 5; i++)
      store.add({ model: 'm', version: 1, state: 'downloading', reason: `report ${i}` });
  })();
  assert.equal(store.count(), MAX_QUEUED_REPORTS);
  assert.equal(store.after(0)?.body.reason, 'report 5');
});

test(
  'the fleet acks every update report an agent sends, and the agent forgets it; a repeat is acked, not stored twice',
  { timeout: 60_000 },
  async (t) => {
    const fleet = await startTestFleet();
    t.after(() => fleet.close());
    const device = 'report-ack-pi';
    const agent = await fleet.startAgent(device);
    await fleet.deploySample(device);
    const metric = async (line: RegExp) =>
      Number(line.exec(await (await fetch(`${agent.apiUrl}/metrics`)).text())?.[1] ?? NaN);
    await waitFor(
      'every report acknowledged',
      async () =>
        ((await metric(/edgeloop_outbox_items_total\{kind="update",outcome="acked"\} (\d+)/)) >= 3 &&
          (await metric(/edgeloop_outbox_pending\{kind="update"\} (\d+)/)) === 0) ||
        undefined,
    );
    const events = async () => ((await fleet.server.devices.events(device, 100)) as Array<{ state: string }>).reverse();
    assert.deepEqual(
      (await events()).map((e) => e.state),
      ['downloading', 'verified', 'active'],
    );

    // A second connection with the device's login stands in for a re-send whose ack was lost.
    const peer = await connectOrThrow(fleet.server.mqttUrl, {
      clientId: `${device}:peer`,
      ...(await fleet.enroll(device)),
    });
    t.after(() => peer.endAsync(true));
    const acks = collect(peer);
    await peer.subscribeAsync(deviceTopic(device, 'ack'), { qos: 1 });
    const session = (await fleet.server.devices.get(device))!.session;
    const repeat: UpdateReport = {
      v: 1,
      model: 'distance',
      version: 1,
      state: 'active',
      ts: Date.now(),
      session,
      reportSeq: 1,
      stream: agent.stream,
      id: 999_999,
    };
    await peer.publishAsync(deviceTopic(device, 'update'), encodeMessage(repeat), { qos: 1 });
    await waitFor('the repeat acked', () => acks.find((a) => a.payload.includes('999999')));
    const ack = decodeMessage(ackSchema, Buffer.from(acks.find((a) => a.payload.includes('999999'))!.payload));
    assert.ok(ack.ok);
    assert.deepEqual([ack.value.kind, ack.value.seqFrom, ack.value.status], ['update', 999_999, 'stored']);
    assert.equal((await events()).length, 3, 'not stored a second time');

    // On another session nothing is taken, and no ack tells the device to forget the report.
    await peer.publishAsync(
      deviceTopic(device, 'update'),
      encodeMessage({ ...repeat, session: session + 1, reportSeq: 2, id: 888_888 }),
      { qos: 1 },
    );
    await sleep(300);
    assert.equal(acks.filter((a) => a.payload.includes('888888')).length, 0);
  },
);
