import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressKey, ConnectLimiter } from './connect-limiter.js';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

test("connections that fail to authenticate spend the address's tokens; it waits for the refill", () => {
  const c = clock();
  const limiter = new ConnectLimiter({ burst: 5, perSecond: 2, maxPending: 1000 }, c.now);
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(limiter.admit('10.0.0.1'), { ok: true });
    limiter.settle('10.0.0.1', false);
  }
  assert.deepEqual(limiter.admit('10.0.0.1'), { ok: false, reason: 'connect_rate' });
  assert.deepEqual(limiter.admit('10.0.0.2'), { ok: true }, 'other addresses are not affected');
  c.advance(499);
  assert.equal(limiter.admit('10.0.0.1').ok, false);
  c.advance(1);
  assert.equal(limiter.admit('10.0.0.1').ok, true, 'one token back after 1/perSecond');
  limiter.settle('10.0.0.1', false);
  assert.equal(limiter.admit('10.0.0.1').ok, false);
});

test('authenticated connections cost nothing, however many come at once', () => {
  const limiter = new ConnectLimiter({ burst: 50, perSecond: 1, maxPending: 1000 }, clock().now);
  // The fleet benchmark: 1,000 devices from 127.0.0.1 in waves of 50.
  for (let wave = 0; wave < 20; wave++) {
    for (let i = 0; i < 50; i++) assert.equal(limiter.admit('127.0.0.1').ok, true);
    for (let i = 0; i < 50; i++) limiter.settle('127.0.0.1', true);
  }
  assert.equal(limiter.pending, 0);
  // But no more than `burst` may wait to authenticate at once from one address.
  for (let i = 0; i < 50; i++) assert.equal(limiter.admit('127.0.0.1').ok, true);
  assert.deepEqual(limiter.admit('127.0.0.1'), { ok: false, reason: 'connect_rate' });
});

test('pending connections are capped over all addresses', () => {
  const limiter = new ConnectLimiter({ burst: 10, perSecond: 1, maxPending: 25 }, clock().now);
  for (let i = 0; i < 25; i++) assert.equal(limiter.admit(`10.0.${i % 3}.1`).ok, true);
  assert.deepEqual(limiter.admit('10.9.9.9'), { ok: false, reason: 'pending_limit' });
  limiter.settle('10.0.0.1', true);
  assert.equal(limiter.admit('10.9.9.9').ok, true);
});

test('addresses: IPv4-mapped IPv6 is the IPv4 address; IPv6 counts per /64', () => {
  assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(addressKey('192.0.2.7'), '192.0.2.7');
  assert.equal(addressKey('2001:db8:0:1::1'), addressKey('2001:db8:0:1:ffff:1:2:3'));
  assert.equal(addressKey('2001:0db8:0000:0001::9'), '2001:db8:0:1::/64');
  assert.notEqual(addressKey('2001:db8:0:1::1'), addressKey('2001:db8:0:2::1'));
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
});

test('addresses that have refilled and have nothing pending are forgotten once there are many', () => {
  const c = clock();
  const limiter = new ConnectLimiter({ burst: 2, perSecond: 1, maxPending: 100_000 }, c.now);
  const buckets = (limiter as unknown as { buckets: Map<string, unknown> }).buckets;
  for (let i = 0; i < 10_050; i++) {
    const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    limiter.admit(address);
    limiter.settle(address, false);
  }
  assert.ok(buckets.size > 10_000);
  c.advance(2000);
  limiter.admit('192.0.2.1');
  limiter.settle('192.0.2.1', true);
  assert.ok(buckets.size <= 1, `${buckets.size} addresses left`);
});
