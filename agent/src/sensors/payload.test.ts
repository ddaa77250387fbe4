import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSensorPayload } from './payload.js';
import { topicMatches } from './sensor-link.js';

const none = { scale: 1, offset: 0 };
/** When the readings below arrive: after every timestamp they carry. */
const ARRIVAL = Date.parse('2027-01-01T00:00:00Z');
const b = (s: string) => Buffer.from(s);

test('JSON payloads: nested value path, scale/offset, epoch ms / s / ISO timestamps, correlation id', () => {
  const spec = {
    format: 'json' as const,
    valuePath: 'data.readings.0.mm',
    timestampPath: 'at',
    correlationPath: 'req',
  };
  const ms = readSensorPayload(
    b('{"data":{"readings":[{"mm":"151.5"}]},"at":1795000000123,"req":"r-9"}'),
    spec,
    { scale: 2, offset: 1 },
    ARRIVAL,
  );
  assert.deepEqual(ms, { ok: true, value: { value: 304, ts: 1795000000123, correlationId: 'r-9' } });
  const s = readSensorPayload(b('{"data":{"readings":[{"mm":1}]},"at":1795000000.5}'), spec, none, ARRIVAL);
  assert.equal(s.ok && s.value.ts, 1795000000500);
  const iso = readSensorPayload(b('{"data":{"readings":[{"mm":1}]},"at":"2026-11-23T12:00:00Z"}'), spec, none, ARRIVAL);
  assert.equal(iso.ok && iso.value.ts, Date.parse('2026-11-23T12:00:00Z'));
});

test('plain numbers use the arrival time', () => {
  assert.deepEqual(readSensorPayload(b(' 42.5\n'), { format: 'number' }, { scale: 1, offset: -2.5 }, 77), {
    ok: true,
    value: { value: 40, ts: 77 },
  });
});

test('unusable payloads are rejected with a reason', () => {
  const spec = { format: 'json' as const, valuePath: 'v', timestampPath: 't' };
  const code = (payload: string, s: Parameters<typeof readSensorPayload>[1] = spec) =>
    ((r) => !r.ok && r.code)(readSensorPayload(b(payload), s, none, 1));
  assert.equal(code('{nope'), 'not-json');
  assert.equal(code('{"t": 1}'), 'no-value');
  assert.equal(code('{"v": "abc", "t": 1}'), 'no-value');
  assert.equal(code('{"v": 1, "t": "yesterday"}'), 'bad-timestamp');
  assert.equal(code('{"v": 1}'), 'bad-timestamp');
  assert.equal(code('Infinity', { format: 'number' }), 'no-value');
  assert.equal(code('x'.repeat(70_000), { format: 'number' }), 'too-large');
});

test('MQTT topic filters match like a broker does', () => {
  assert.ok(topicMatches('site/tof/+', 'site/tof/rear'));
  assert.ok(!topicMatches('site/tof/+', 'site/tof/rear/raw'));
  assert.ok(topicMatches('site/#', 'site/tof/rear/raw'));
  assert.ok(topicMatches('a/b', 'a/b'));
  assert.ok(!topicMatches('a/b', 'a/c'));
  assert.ok(!topicMatches('a/+/c', 'a/b'));
});

test('a timestamp far ahead of the device clock is refused, so it cannot outrank every later reading', () => {
  const spec = { format: 'json' as const, valuePath: 'v', timestampPath: 't' };
  const now = 1_795_000_000_000;
  const micro = readSensorPayload(b(`{"v":1,"t":${now * 1000}}`), spec, none, now);
  assert.equal(!micro.ok && micro.code, 'bad-timestamp');
  assert.match(!micro.ok ? micro.reason : '', /ahead of this device's clock.*not µs/);
  const skewed = readSensorPayload(b(`{"v":1,"t":${now + 60_000}}`), spec, none, now);
  assert.equal(skewed.ok && skewed.value.ts, now + 60_000, 'a minute of clock skew is fine');
});

test('sensor numbers are decimal: hex, binary and octal literals are refused, not read as other values', () => {
  const code = (payload: string) =>
    ((r) => (r.ok ? r.value.value : r.code))(readSensorPayload(b(payload), { format: 'number' }, none, 1));
  assert.equal(code('0x10'), 'no-value');
  assert.equal(code('0b11'), 'no-value');
  assert.equal(code('0o17'), 'no-value');
  assert.equal(code('Infinity'), 'no-value');
  const json = (v: string) =>
    ((r) => (r.ok ? r.value.value : r.code))(
      readSensorPayload(b(`{"v": ${v}}`), { format: 'json', valuePath: 'v' }, none, 1),
    );
  assert.equal(json('"0x10"'), 'no-value');
  assert.equal(json('"1e3"'), 1000);
  assert.equal(code('-.5'), -0.5);
  assert.equal(code('+12.'), 12);
  assert.equal(code('010'), 10);
});
