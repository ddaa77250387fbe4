import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DownloadSlots } from './download-slots.js';

test('devices beyond the cap wait in arrival order; a finished or idle device frees its slot', async () => {
  const slots = new DownloadSlots({ maxConcurrent: 2, idleMs: 1000 });
  try {
    assert.equal(slots.enter('a', 0).admitted, true);
    assert.equal(slots.enter('b', 0).admitted, true);
    assert.equal(slots.enter('a', 10).admitted, true, 'a device holding a slot keeps it for its next requests');
    const c = slots.enter('c', 10);
    const d = slots.enter('d', 10);
    assert.ok(!c.admitted && c.position === 1);
    assert.ok(!d.admitted && d.position === 2);
    const order: string[] = [];
    void c.ready.then(() => order.push('c'));
    void d.ready.then(() => order.push('d'));
    slots.release('a'); // a fetched its last byte
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['c']);
    slots.touch('b', 900);
    slots.sweep(1500); // c (admitted at "now") and b (active at 900) are not idle yet
    assert.deepEqual(slots.stats().waiting, 1);
    slots.sweep(Date.now() + 5000); // b and c went quiet: their slots go to d
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['c', 'd']);
    assert.equal(slots.stats().admissions, 4);
  } finally {
    slots.close();
  }
});
