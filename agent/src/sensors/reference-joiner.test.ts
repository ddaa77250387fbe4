import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openAgentDb } from '../store/agent-db.js';
import { RecordBuffer } from '../store/record-buffer.js';
import { ReferenceStore } from '../store/reference-store.js';
import { ReferenceJoiner } from './reference-joiner.js';
import { sensorsConfigSchema, referenceBindings, type ReferenceBinding } from './sensor-config.js';

const T0 = 1_800_000_000_000;

/** A real SQLite buffer with the joiner hooked in as the agent does, on a clock the test drives. */
function setup(binding: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-joiner-'));
  const db = openAgentDb(join(dir, 'agent.db'));
  const buffer = new RecordBuffer(db);
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
  const b = referenceBindings(
    sensorsConfigSchema.parse({ bindings: [{ name: 'tof', topic: 't', model: 'distance', ...binding }] }),
  )[0]! as ReferenceBinding;
  const joiner = new ReferenceJoiner(new ReferenceStore(db), [b], log);
  const clock = { now: T0 };
  buffer.setAppendHook((r) => joiner.onAppend(r, clock.now));
  buffer.onStored((seq, r) => joiner.onStored(seq, r));
  buffer.trackSent();
  const predict = (ts: number, requestId?: string): Promise<number> =>
    buffer.append({
      ts,
      model: 'distance',
      version: 1,
      output: [0],
      prediction: 0,
      latencyMs: 1,
      features: {},
      ...(requestId ? { requestId } : {}),
    });
  const reading = (value: number, ts: number, correlationId?: string) =>
    joiner.accept(b, { value, ts, ...(correlationId ? { correlationId } : {}) }, clock.now);
  /** What would leave for the fleet at the current clock: held records stop the batch. */
  const leaving = () => buffer.readAfter(0, 1000, clock.now);
  const all = () => buffer.readAfter(0, 1000, Number.MAX_SAFE_INTEGER);
  return {
    joiner,
    clock,
    predict,
    reading,
    leaving,
    all,
    warnings,
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const tsJson = { format: 'json', valuePath: 'v', timestampPath: 't' };

test('timestamp join: each prediction gets the nearest reading, whether it came before or after it (1/s predictions, 250 ms sensor, 500 ms window)', async () => {
  const j = setup({ payload: tsJson, join: { by: 'timestamp', windowMs: 500 } });
  try {
    // Readings every 250 ms arrive 10 ms after their timestamp; predictions at 1/s at offsets
    // that put the nearest reading sometimes before, sometimes after the prediction.
    const offsets = [130, 60, 240, 190, 10, 120, 170, 99, 201, 30];
    const events: Array<{ at: number; run: () => Promise<unknown> | unknown }> = [];
    const readingTs: number[] = [];
    for (let ts = T0 - 500; ts <= T0 + offsets.length * 1000 + 500; ts += 250) {
      readingTs.push(ts);
      events.push({ at: ts + 10, run: () => j.reading(ts - T0, ts) });
    }
    const predictionTs = offsets.map((o, i) => T0 + i * 1000 + o);
    for (const ts of predictionTs) events.push({ at: ts, run: () => j.predict(ts) });
    events.sort((a, b) => a.at - b.at);
    for (const e of events) {
      j.clock.now = e.at;
      await e.run();
    }
    const records = j.all();
    assert.equal(records.length, predictionTs.length);
    for (const r of records) {
      const nearest = readingTs.reduce((best, ts) => (Math.abs(ts - r.ts) < Math.abs(best - r.ts) ? ts : best));
      assert.equal(
        r.reference,
        nearest - T0,
        `prediction at +${r.ts - T0} ms joined the reading at +${r.reference} ms, the nearest is at +${nearest - T0} ms`,
      );
    }
    assert.equal(j.joiner.stats.skewed, 0);
  } finally {
    j.close();
  }
});

test('a later, nearer reading replaces an earlier one while the record is held; a reading after the prediction settles it', async () => {
  const j = setup({ payload: tsJson, join: { by: 'timestamp', windowMs: 500 }, holdMs: 2000 });
  try {
    j.clock.now = T0;
    await j.predict(T0);
    // A late reading from before the prediction: joined, but the record stays held.
    j.clock.now = T0 + 50;
    assert.equal(j.reading(1, T0 - 300), 'joined');
    assert.equal(j.all()[0]!.reference, 1);
    assert.equal(j.leaving().length, 0, 'held: a nearer reading may still come');
    // Nearer, still before: replaces, still held.
    assert.equal(j.reading(2, T0 - 100), 'joined');
    assert.equal(j.all()[0]!.reference, 2);
    assert.equal(j.leaving().length, 0);
    // Farther: ignored. Nearer and after the prediction: replaces and releases.
    j.clock.now = T0 + 80;
    j.reading(3, T0 - 200);
    assert.equal(j.all()[0]!.reference, 2);
    j.reading(4, T0 + 60);
    assert.equal(j.leaving()[0]?.reference, 4, 'settled by a reading after the prediction: leaves now');
    // Later readings no longer change it (this one is farther anyway, and the record is released).
    j.reading(5, T0 + 20);
    assert.equal(j.all()[0]!.reference, 4);
    assert.equal(j.joiner.stats.replaced, 2);
  } finally {
    j.close();
  }
});

test('a reading may be the nearest for several predictions: it joins each', async () => {
  const j = setup({ payload: tsJson, join: { by: 'timestamp', windowMs: 500 } });
  try {
    j.clock.now = T0;
    await j.predict(T0 - 200);
    await j.predict(T0 - 100);
    j.reading(7, T0);
    j.clock.now = T0 + 100;
    await j.predict(T0 + 100);
    assert.deepEqual(
      j.all().map((r) => r.reference),
      [7, 7, 7],
    );
    assert.equal(j.joiner.stats.joined, 1, 'counted per reading');
  } finally {
    j.close();
  }
});

test('correlation join: only predictions with a request id are held', async () => {
  const j = setup({ payload: { format: 'json', valuePath: 'v', correlationPath: 'req' }, join: { by: 'correlation' } });
  try {
    j.clock.now = T0;
    await j.predict(T0, 'req-1');
    await j.predict(T0 + 1);
    // The one without a request id can never be joined: it leaves at once, but after the held one (seq order).
    assert.equal(j.leaving().length, 0);
    j.reading(42, T0, 'req-1');
    assert.deepEqual(
      j.leaving().map((r) => [r.requestId, r.reference]),
      [
        ['req-1', 42],
        [undefined, null],
      ],
    );
  } finally {
    j.close();
  }
});

test('a record without a request id is not held by a correlation binding', async () => {
  const j = setup({ payload: { format: 'json', valuePath: 'v', correlationPath: 'req' }, join: { by: 'correlation' } });
  try {
    j.clock.now = T0;
    await j.predict(T0);
    assert.equal(j.leaving().length, 1, 'nothing can join it: no reason to hold it for 5 s');
  } finally {
    j.close();
  }
});

test('values that can never join are counted as unmatched and warned about once', async () => {
  const j = setup({ payload: { format: 'json', valuePath: 'v', correlationPath: 'req' }, join: { by: 'correlation' } });
  try {
    j.clock.now = T0;
    assert.equal(j.reading(1, T0), 'unmatched');
    assert.equal(j.reading(2, T0), 'unmatched');
    assert.equal(j.reading(3, T0, 'nobody-has-this'), 'waiting');
    j.clock.now = T0 + 61_000;
    await j.predict(T0 + 61_000, 'other'); // any activity expires the wait
    assert.equal(j.joiner.stats.unmatched, 3);
    assert.equal(j.warnings.filter((w) => /can never join a prediction/.test(w)).length, 1);
  } finally {
    j.close();
  }
});

test('readings stamped ahead of the device clock are not joined, counted as skewed, and warned about once when it persists', async () => {
  const j = setup({ payload: tsJson, join: { by: 'timestamp', windowMs: 500 } });
  try {
    for (let i = 0; i < 5; i++) {
      j.clock.now = T0 + i * 1000;
      await j.predict(j.clock.now);
      // The sensor's clock is 2 s ahead: this reading "belongs" to a prediction two seconds away.
      assert.equal(j.reading(i, j.clock.now + 2000 + 20), 'skewed');
    }
    assert.equal(j.joiner.stats.skewed, 5);
    assert.equal(j.joiner.stats.joined, 0);
    assert.deepEqual(
      j.all().map((r) => r.reference),
      [null, null, null, null, null],
      'no prediction got a reading from another time',
    );
    assert.equal(j.warnings.filter((w) => /stamped ahead of this device's clock/.test(w)).length, 1);
    // A reading within tolerance is joined again.
    j.clock.now = T0 + 4100;
    assert.equal(j.reading(9, T0 + 4100), 'joined');
  } finally {
    j.close();
  }
});

test('a timestamp reading with no prediction in its window is counted as expired', async () => {
  const j = setup({ payload: tsJson, join: { by: 'timestamp', windowMs: 500 } });
  try {
    j.clock.now = T0;
    assert.equal(j.reading(1, T0), 'waiting');
    j.clock.now = T0 + 2000;
    await j.predict(T0 + 2000);
    assert.equal(j.joiner.stats.expired, 1);
    assert.equal(j.all()[0]!.reference, null);
  } finally {
    j.close();
  }
});

test('a reading that arrives while its prediction is being committed is joined to it, not lost', async () => {
  const j = setup({ payload: tsJson, join: { by: 'timestamp', windowMs: 500 } });
  try {
    // The append hook runs at once, the group commit a moment later (setImmediate): a sensor
    // message handled in between finds no row yet and waits; the commit must take it.
    const stored = j.predict(T0);
    j.clock.now = T0 + 100;
    assert.equal(j.reading(7, T0 + 100), 'waiting');
    await stored;
    assert.deepEqual(
      j.all().map((r) => r.reference),
      [7],
    );
    assert.equal(j.leaving().length, 1, 'joined to a later reading: final, no longer held');
  } finally {
    j.close();
  }
});

test('a correlated value that arrives while its prediction is being committed is joined to it', async () => {
  const j = setup({ payload: { format: 'json', valuePath: 'v', correlationPath: 'id' }, join: { by: 'correlation' } });
  try {
    const stored = j.predict(T0, 'req-1');
    assert.equal(j.reading(9, T0, 'req-1'), 'waiting');
    await stored;
    assert.deepEqual(
      j.all().map((r) => r.reference),
      [9],
    );
  } finally {
    j.close();
  }
});
