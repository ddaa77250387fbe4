import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyPool } from './body-pool.js';

test('a released buffer serves the next body that fits, and nothing larger', () => {
  const pool = new BodyPool();
  const first = pool.acquire(300_000);
  assert.ok(first.length >= 300_000);
  assert.equal(first.length, 512 * 1024, 'rounded up to a power of two, so similar frames share it');
  pool.release(first);
  assert.equal(pool.acquire(200_000), first);
  pool.release(first);
  const bigger = pool.acquire(600_000);
  assert.notEqual(bigger, first);
  assert.equal(pool.idleBytes(), first.length, 'the smaller buffer stays idle');
});

test('at most maxIdle buffers are kept, the largest ones', () => {
  const pool = new BodyPool(2);
  const [a, b, c] = [pool.acquire(70_000), pool.acquire(200_000), pool.acquire(1_000_000)];
  pool.release(a);
  pool.release(b);
  pool.release(c);
  assert.equal(pool.idleBytes(), b.length + c.length);
  assert.equal(pool.acquire(1_000_000), c);
});

test('buffers over 8 MiB are never kept', () => {
  const pool = new BodyPool();
  pool.release(pool.acquire(9 * 1024 * 1024));
  assert.equal(pool.idleBytes(), 0);
});
