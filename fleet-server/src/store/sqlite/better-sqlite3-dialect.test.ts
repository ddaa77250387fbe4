import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FifoLock } from './better-sqlite3-dialect.js';
import { openSqliteStore } from './open-sqlite-store.js';

test('the connection lock admits one holder at a time, in arrival order', async () => {
  const lock = new FifoLock();
  const order: number[] = [];
  await lock.acquire();
  const waiters = [1, 2, 3].map((i) => lock.acquire().then(() => order.push(i)));
  assert.equal(lock.waiting, 3);
  for (let i = 0; i < 3; i++) {
    lock.release();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [1, 2, 3].slice(0, i + 1), 'exactly one more holder per release');
  }
  await Promise.all(waiters);
  lock.release();
  assert.equal(lock.waiting, 0);
  await lock.acquire();
});

test('a thousand concurrent store calls all complete, and a unit of work is never interleaved', async (t) => {
  const store = await openSqliteStore(':memory:');
  t.after(() => store.close());
  const ids = Array.from({ length: 1000 }, (_, i) => `pi-${i}`);
  await Promise.all(ids.map((id) => store.devices.ensure(id, 1_000)));
  const seen = await Promise.all(ids.map((id) => store.devices.exists(id)));
  assert.ok(seen.every(Boolean));
  await assert.rejects(
    store.transaction(async (tx) => {
      await tx.devices.ensure('rolled-back', 1_000);
      throw new Error('abort');
    }),
    /abort/,
  );
  assert.equal(await store.devices.exists('rolled-back'), false);
});
