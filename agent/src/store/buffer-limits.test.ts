import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { KeyValue, openAgentDb } from './agent-db.js';
import { BufferLimits } from './buffer-limits.js';
import { RecordBuffer, type NewRecord } from './record-buffer.js';

const rec = (i: number, ts = Date.now()): NewRecord => ({
  ts,
  model: 'm',
  version: 1,
  requestId: `r${i}-${'x'.repeat(100)}`,
  output: [i],
  prediction: i,
  latencyMs: 1,
  features: { a: i, b: i, c: i },
});

function setup(
  t: { after: (fn: () => void) => void },
  limits: Partial<ConstructorParameters<typeof BufferLimits>[3]> = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-limits-'));
  const db = openAgentDb(join(dir, 'agent.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const kv = new KeyValue(db);
  return {
    db,
    buffer: new RecordBuffer(db),
    limits: new BufferLimits(
      db,
      kv,
      dir,
      { maxBytes: 1 << 30, maxAgeMs: 0, minFreeDiskBytes: 0, ...limits },
      pino({ level: 'silent' }),
    ),
  };
}

test('over the byte cap the oldest records are dropped, counted, and the newest kept', async (t) => {
  const { buffer, limits } = setup(t, { maxBytes: 1024 * 1024 });
  for (let i = 0; i < 20_000; i += 1000)
    await Promise.all(Array.from({ length: 1000 }, (_, j) => buffer.append(rec(i + j))));
  const before = buffer.count();
  const dropped = limits.enforce();
  assert.ok(dropped > 0, 'something was dropped');
  assert.equal(buffer.count(), before - dropped);
  assert.ok(limits.usedBytes() <= 1024 * 1024, `used ${limits.usedBytes()} bytes`);
  assert.equal(limits.dropped(), dropped, 'the running total is persisted');
  const oldest = buffer.readAfter(0, 1)[0]!;
  assert.equal(oldest.seq, dropped + 1, 'the oldest went first');
  assert.equal(buffer.readAfter(19_999, 1)[0]?.seq, 20_000, 'the newest is kept');
  assert.equal(limits.enforce(), 0, 'headroom: no drop right after');
});

test('records older than the age limit are dropped', async (t) => {
  const { buffer, limits } = setup(t, { maxAgeMs: 60_000 });
  const now = Date.now();
  await Promise.all([0, 1, 2].map((i) => buffer.append(rec(i, now - 120_000))));
  await Promise.all([3, 4].map((i) => buffer.append(rec(i, now))));
  assert.equal(limits.enforce(now), 3);
  assert.deepEqual(
    buffer.readAfter(0, 10).map((r) => r.seq),
    [4, 5],
  );
});

test('a disk below its free-space floor sheds the oldest tenth', async (t) => {
  const { buffer, limits } = setup(t, { minFreeDiskBytes: Number.MAX_SAFE_INTEGER });
  await Promise.all(Array.from({ length: 100 }, (_, i) => buffer.append(rec(i))));
  assert.equal(limits.enforce(), 10);
  assert.equal(buffer.count(), 90);
});
