import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ackSchema, decodeMessage, encodeMessage, type Ack, type Birth, type UpdateReport } from '@edgeloop/protocol';
import { openFleetStore } from '../store/open-fleet-store.js';
import { updateIngest } from './update-ingest.js';

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-update-ingest-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const acks: Ack[] = [];
  const ingest = updateIngest({
    store,
    log: pino({ level: 'silent' }),
    publish: async (topic, payload) => {
      assert.equal(topic.split('/')[3], 'pi-1');
      const ack = decodeMessage(ackSchema, payload);
      assert.ok(ack.ok);
      acks.push(ack.value);
    },
  });
  const send = (r: Partial<UpdateReport> & Pick<UpdateReport, 'session' | 'reportSeq'>) =>
    ingest('pi-1', encodeMessage({ v: 1, model: 'm', version: 2, state: 'downloading', ts: 1, ...r }));
  const birth = (session: number) =>
    store.devices.recordBirth({
      v: 1,
      type: 'birth',
      deviceId: 'pi-1',
      session,
      ts: 1,
      agentVersion: '0.1.0',
      arch: 'arm64',
      platform: 'linux',
      cpus: 4,
      memTotalMb: 4096,
      runtime: { name: 'onnxruntime-node', version: '1.30.0' },
      models: [],
      stream: 's1',
      backlog: 0,
    } satisfies Birth);
  const stored = async () =>
    (await store.updateEvents.list('pi-1')).map((e) => [e.session, e.reportSeq, e.state]).reverse();
  const acked = () => acks.map((a) => [a.kind, a.stream, a.seqFrom, a.seqTo, a.status]);
  return { store, send, birth, stored, acked };
}

test('a report sent again after a reconnect (same outbox stream and id, new session) is stored once and acked twice', async (t) => {
  const { send, birth, stored, acked } = await setup(t);
  await birth(1);
  // MQTT's own redelivery of the in-flight copy reaches the server before the new birth.
  await send({ session: 1, reportSeq: 3, stream: 'u1', id: 5 });
  await birth(2);
  // The outbox restamps the same report with the new session and sends it again.
  await send({ session: 2, reportSeq: 1, stream: 'u1', id: 5 });
  await send({ session: 2, reportSeq: 2, stream: 'u1', id: 6, state: 'active' });
  assert.deepEqual(await stored(), [
    [1, 3, 'downloading'],
    [2, 2, 'active'],
  ]);
  assert.deepEqual(acked(), [
    ['update', 'u1', 5, 5, 'stored'],
    ['update', 'u1', 5, 5, 'stored'],
    ['update', 'u1', 6, 6, 'stored'],
  ]);
});

test('the old-session copy arriving after the restamped one is acked, not stored and not refused', async (t) => {
  const { send, birth, stored, acked } = await setup(t);
  await birth(2);
  await send({ session: 2, reportSeq: 1, stream: 'u1', id: 5 });
  await send({ session: 1, reportSeq: 3, stream: 'u1', id: 5 });
  // A report not stored yet, on a session that is over, still gets no ack: it must come again.
  await send({ session: 1, reportSeq: 4, stream: 'u1', id: 6 });
  assert.deepEqual(await stored(), [[2, 1, 'downloading']]);
  assert.deepEqual(acked(), [
    ['update', 'u1', 5, 5, 'stored'],
    ['update', 'u1', 5, 5, 'stored'],
  ]);
});

test('reports without an outbox position keep the session and reportSeq rules, and get no ack', async (t) => {
  const { send, birth, stored, acked } = await setup(t);
  await birth(1);
  await send({ session: 1, reportSeq: 1 });
  await send({ session: 1, reportSeq: 1 });
  await birth(2);
  await send({ session: 2, reportSeq: 1 });
  assert.deepEqual(await stored(), [
    [1, 1, 'downloading'],
    [2, 1, 'downloading'],
  ]);
  assert.deepEqual(acked(), []);
});

test('the same outbox id on another stream is another report', async (t) => {
  const { send, birth, stored, acked } = await setup(t);
  await birth(1);
  await send({ session: 1, reportSeq: 1, stream: 'u1', id: 5 });
  await send({ session: 1, reportSeq: 2, stream: 'u2', id: 5 });
  assert.equal((await stored()).length, 2);
  assert.deepEqual(
    acked().map((a) => a[1]),
    ['u1', 'u2'],
  );
});
