import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAgentDb } from './agent-db.js';
import { RecordBuffer, type NewRecord } from './record-buffer.js';
import { ModelState } from './model-state.js';

const rec = (i: number): NewRecord => ({
  ts: 1_700_000_000_000 + i,
  model: 'm',
  version: 1,
  requestId: `r${i}`,
  output: [i],
  prediction: i,
  latencyMs: 1,
  features: { f: i },
});

function tempDb() {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-buffer-'));
  return { path: join(dir, 'agent.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('concurrent appends commit as one group with increasing seqs and survive reopening', async () => {
  const { path, cleanup } = tempDb();
  try {
    const db = openAgentDb(path);
    const buffer = new RecordBuffer(db);
    const seqs = await Promise.all(Array.from({ length: 50 }, (_, i) => buffer.append(rec(i))));
    assert.deepEqual(
      seqs,
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    db.close();

    const reopened = new RecordBuffer(openAgentDb(path));
    assert.equal(reopened.count(), 50);
    const first = reopened.readAfter(0, 2);
    assert.equal(first[0]?.requestId, 'r0');
    assert.deepEqual(first[1]?.features, { f: 1 });
  } finally {
    cleanup();
  }
});

test('acknowledged records are removed and their seqs never reused', async () => {
  const { path, cleanup } = tempDb();
  try {
    const db = openAgentDb(path);
    const buffer = new RecordBuffer(db);
    await Promise.all([1, 2, 3].map((i) => buffer.append(rec(i))));
    assert.equal(buffer.acknowledge(1, 3), 3);
    assert.equal(buffer.count(), 0);
    assert.equal(await buffer.append(rec(4)), 4);
    buffer.deadLetter(4, 4, 'server said no');
    assert.equal(buffer.count(), 0);
    assert.equal((db.prepare('SELECT reason FROM dead_letters').get() as { reason: string }).reason, 'server said no');
  } finally {
    cleanup();
  }
});

test('the accepted-version counter never goes down', () => {
  const { path, cleanup } = tempDb();
  try {
    const state = new ModelState(openAgentDb(path));
    const envelope = { payloadType: 't', payload: '', signatures: [] };
    state.activate({ name: 'm', version: 3, sha256: 'c', path: '/m3', envelope });
    state.activate({ name: 'm', version: 2, sha256: 'b', path: '/m2', envelope });
    assert.deepEqual(state.lastAccepted('m'), { version: 3, sha256: 'c' });
    assert.equal(state.active()[0]?.version, 2);
  } finally {
    cleanup();
  }
});
