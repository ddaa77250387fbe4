import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeSample } from '@edgeloop/protocol';
import { SampleStore } from '../sampling/sample-store.js';
import { waitFor } from '@edgeloop/test/support/fixtures';
import { Outbox } from './outbox.js';
import { SampleStream } from './sample-stream.js';
import { silent, tempAgentDb } from './test-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('on request, samples go one at a time only while the fleet asks; an unreadable one is dropped, not a blocker', async (t) => {
  const { db, path } = tempAgentDb(t);
  const dir = join(dirname(path), 'samples');
  const store = new SampleStore(db, dir, 1024 * 1024);
  const sent: number[] = [];
  const outbox = new Outbox({
    stream: 'st',
    publish: async (_kind, payload) => {
      const s = decodeSample(payload);
      assert.ok(s.ok);
      sent.push(s.value.id);
    },
    log: silent,
  });
  t.after(() => outbox.close());
  const samples = new SampleStream(store, 'st', 'on-request', silent);
  outbox.add(samples, {
    window: 1,
    ackTimeoutMs: 60_000,
    ackTimeoutMaxMs: 300_000,
    coalesceMs: 0,
    maxBytesPerSecond: 0,
    backoff: { minMs: 1000, maxMs: 60_000 },
    waitPollMs: 250,
  });
  store.onKept(() => outbox.wake('sample'));
  const meta = (seq: number) => ({
    seq,
    model: 'm',
    version: 1,
    ts: Date.now(),
    reason: 'every-nth' as const,
    prediction: 1,
    reference: null,
    contentType: 'application/json',
  });
  store.keep(meta(1), Buffer.from('{"n":1}'));
  store.keep(meta(2), Buffer.from('{"n":2}'));
  store.keep(meta(3), Buffer.from('{"n":3}'));
  outbox.setConnected(true);
  await sleep(100);
  assert.deepEqual(sent, [], 'nothing goes before the fleet asks');

  rmSync(join(dir, 'm-1.json'));
  samples.requestUntil(Date.now() + 60_000);
  outbox.wake('sample');
  await waitFor('the first readable sample sent', () => sent.length >= 1 || undefined);
  await sleep(60);
  assert.deepEqual(sent, [2], 'one at a time; the sample whose file is gone was dropped');
  assert.equal(store.count().samples, 2);

  outbox.handleAck({ v: 1, kind: 'sample', stream: 'st', seqFrom: 2, seqTo: 2, status: 'stored' });
  await waitFor('the next sample sent', () => sent.length >= 2 || undefined);
  assert.deepEqual(sent, [2, 3]);
  assert.equal(store.count().samples, 1, 'an acked sample is deleted, file and row');
  samples.requestUntil(undefined);
  outbox.handleAck({ v: 1, kind: 'sample', stream: 'st', seqFrom: 3, seqTo: 3, status: 'stored' });
  store.keep(meta(4), Buffer.from('{"n":4}'));
  await sleep(100);
  assert.deepEqual(sent, [2, 3], 'the request is over: kept, not sent');
});
