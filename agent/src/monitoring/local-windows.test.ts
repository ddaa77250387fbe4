import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binSpecFor, binSpecId, emptyRollup, foldRecord, MINUTE_MS, rollupToWire } from '@edgeloop/protocol';
import { LocalWindows, type WindowRecord } from './local-windows.js';
import type { VersionSpec } from './version-spec.js';

const spec = binSpecFor({
  count: 1,
  features: { brightness: { edges: [0, 0.25, 0.5, 0.75, 1], counts: [0, 1, 0, 0] } },
  prediction: { edges: [0, 100, 200, 300], counts: [1, 0, 0] },
  reference: { edges: [0, 100, 200, 300], counts: [1, 0, 0] },
});
const v1: VersionSpec = { model: 'm', version: 1, spec, specId: binSpecId(spec) };
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % MINUTE_MS);

function rec(i: number, over: Partial<WindowRecord> = {}): WindowRecord {
  return {
    ts: T0 + i * 250,
    model: 'm',
    version: 1,
    features: { brightness: (i % 10) / 10 },
    prediction: 100 + (i % 7),
    ...over,
  };
}

test('records fold into per-minute rollups by device time; a window merges its minutes exactly', () => {
  const w = new LocalWindows((m, v) => (m === 'm' && v === 1 ? v1 : undefined));
  const records = Array.from({ length: 4 * 60 * 5 }, (_, i) => rec(i)); // 5 minutes at 4/s
  for (const r of records) w.fold(r);
  w.fold(rec(3, { shadow: true, prediction: 250 }));
  w.fold(rec(1, { version: 9 })); // not loaded: not folded

  const minutes = w.minutes('m', 1, 'serving');
  assert.deepEqual(
    minutes.map((m) => [m.start - T0, m.rollup.count]),
    [0, 1, 2, 3, 4].map((k) => [k * MINUTE_MS, 240]),
  );
  const expected = emptyRollup();
  for (const r of records.filter((r) => r.ts >= T0 + MINUTE_MS && r.ts < T0 + 4 * MINUTE_MS))
    foldRecord(expected, spec, r);
  const merged = w.merged('m', 1, 'serving', T0 + MINUTE_MS, T0 + 4 * MINUTE_MS)!;
  assert.deepEqual(rollupToWire(merged), rollupToWire(expected));
  assert.equal(w.merged('m', 1, 'shadow', T0, T0 + 10 * MINUTE_MS)!.output.bins['2'], 1);
  assert.equal(w.merged('m', 9, 'serving', T0, T0 + MINUTE_MS), undefined);
  assert.equal(w.now(), records.at(-1)!.ts);
});

test('late reference values fold into their record minute: reference and error, not the count', () => {
  const w = new LocalWindows(() => v1);
  w.fold(rec(0, { prediction: 110 }));
  w.foldLateReference({ ts: T0, model: 'm', version: 1, prediction: 110 }, 100);
  const r = w.merged('m', 1, 'serving', T0, T0 + MINUTE_MS)!;
  assert.equal(r.count, 1);
  assert.equal(r.reference.n, 1);
  assert.equal(r.error.absSum, 10);
});

test('the ring is bounded: minutes older than it are forgotten, late records beyond it are not folded', () => {
  const w = new LocalWindows(() => v1, 10);
  for (let minute = 0; minute < 25; minute++) w.fold(rec(minute * 240));
  const minutes = w.minutes('m', 1, 'serving');
  assert.equal(minutes.length, 10);
  assert.equal(minutes[0]!.start, T0 + 15 * MINUTE_MS);
  w.fold(rec(0)); // 25 minutes late
  assert.equal(w.tooOld, 1);
  assert.equal(w.minutes('m', 1, 'serving').length, 10);
});
