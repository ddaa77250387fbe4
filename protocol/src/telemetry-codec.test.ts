import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { pack } from 'msgpackr';
import { encodeMessage } from './codec.js';
import { decodeTelemetryPayload, encodeTelemetryBatch } from './telemetry-codec.js';
import { packColumn, unpackColumn } from './columns.js';
import type { TelemetryBatch, TelemetryRecord } from './messages.js';

const f32 = (v: number) => Math.fround(v);

function sensorLike(n: number, seq0 = 1): TelemetryRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const brightness = 0.4 + 0.1 * Math.sin(i / 50);
    const prediction = f32(120 + 200 * brightness + Math.sin(i * 7.3));
    return {
      seq: seq0 + i,
      ts: 1_795_000_000_000 + i * 250 + (i % 3),
      model: 'distance',
      version: 3,
      output: [prediction],
      prediction,
      latencyMs: 2 + (i % 5) * 0.13,
      reference: 118 + 200 * brightness,
      features: {
        mean_r: brightness * 1.02,
        mean_g: brightness,
        mean_b: brightness * 0.9,
        brightness,
        saturation: 0.12 + 0.01 * Math.cos(i / 30),
        contrast: 0.2,
      },
    };
  });
}

const close = (a: number, b: number) => Math.abs(a - b) <= Math.max(1e-6, Math.abs(b) * 1e-6);

test('compact batches round-trip: seqs, timestamps, models, nulls, outputs, request ids, flags', () => {
  const records: TelemetryRecord[] = [
    {
      seq: 10,
      ts: 1000,
      model: 'a',
      version: 1,
      output: [1.5, 2.5, -3],
      prediction: 1,
      latencyMs: 0.5,
      features: { x: 1 },
      requestId: 'r1',
      reference: null,
    },
    {
      seq: 12,
      ts: 990,
      model: 'b',
      version: 7,
      output: [],
      prediction: null,
      latencyMs: 1,
      features: {},
      reference: 4.25,
    },
    {
      seq: 13,
      ts: 2000,
      model: 'a',
      version: 1,
      output: [0.25],
      prediction: 0.25,
      latencyMs: 2,
      features: { x: 2, y: 3 },
      requestId: 'r3',
    },
  ];
  const batch: TelemetryBatch = { v: 1, stream: 's1', records, backlog: 42, historical: true, dropped: 7 };
  const res = decodeTelemetryPayload(encodeTelemetryBatch(batch));
  assert.ok(res.ok, !res.ok ? res.reason : '');
  assert.equal(res.value.stream, 's1');
  assert.equal(res.value.backlog, 42);
  assert.equal(res.value.historical, true);
  assert.equal(res.value.dropped, 7);
  assert.deepEqual(
    res.value.records.map((r) => [r.seq, r.ts, r.model, r.version, r.requestId]),
    [
      [10, 1000, 'a', 1, 'r1'],
      [12, 990, 'b', 7, undefined],
      [13, 2000, 'a', 1, 'r3'],
    ],
  );
  assert.deepEqual(
    res.value.records.map((r) => r.output),
    [[1.5, 2.5, -3], [], [0.25]],
  );
  assert.deepEqual(
    res.value.records.map((r) => r.prediction),
    [1, null, 0.25],
  );
  assert.deepEqual(
    res.value.records.map((r) => r.reference),
    [null, 4.25, null],
  );
  assert.deepEqual(
    res.value.records.map((r) => r.features),
    [{ x: 1 }, {}, { x: 2, y: 3 }],
  );
});

test('values survive at float32 precision', () => {
  const records = sensorLike(500);
  const res = decodeTelemetryPayload(encodeTelemetryBatch({ v: 1, stream: 's', records, backlog: 0 }));
  assert.ok(res.ok);
  res.value.records.forEach((r, i) => {
    const want = records[i]!;
    assert.equal(r.seq, want.seq);
    assert.equal(r.ts, want.ts);
    assert.equal(r.prediction, want.prediction);
    assert.ok(close(r.reference!, want.reference!));
    assert.ok(close(r.features.saturation!, want.features.saturation!));
  });
});

test('compact encoding is several times smaller than JSON for sensor-like records', () => {
  const records = sensorLike(500);
  const compact = encodeTelemetryBatch({ v: 1, stream: 's0123456789abcdef', records, backlog: 0 }).length / 500;
  const json = encodeMessage({ v: 1, stream: 's0123456789abcdef', records, backlog: 0 }).length / 500;
  assert.ok(compact * 4 < json, `compact ${compact.toFixed(1)} B/record vs JSON ${json.toFixed(1)} B/record`);
});

test('JSON batches are still accepted', () => {
  const records = sensorLike(3);
  const res = decodeTelemetryPayload(encodeMessage({ v: 1, stream: 's', records, backlog: 0 }));
  assert.ok(res.ok);
  assert.equal(res.value.records.length, 3);
});

test('corrupt, unknown-format and bomb payloads are rejected with a reason', () => {
  const good = encodeTelemetryBatch({ v: 1, stream: 's', records: sensorLike(10), backlog: 0 });
  const truncated = good.subarray(0, good.length - 5);
  assert.equal(((r) => !r.ok && r.code)(decodeTelemetryPayload(truncated)), 'bad-encoding');
  assert.equal(((r) => !r.ok && r.code)(decodeTelemetryPayload(Buffer.from([0xe1, 9, 1, 2]))), 'bad-encoding');
  const bomb = Buffer.concat([Buffer.from([0xe1, 2]), deflateRawSync(Buffer.alloc(64 * 1024 * 1024))]);
  assert.equal(((r) => !r.ok && r.code)(decodeTelemetryPayload(bomb)), 'bad-encoding');
  const lying = Buffer.concat([
    Buffer.from([0xe1, 2]),
    deflateRawSync(
      pack({
        stream: 's',
        backlog: 0,
        n: 5,
        seq0: 1,
        ts0: 1,
        tsStep: new Uint8Array(4),
        models: [['m', 1]],
        prediction: new Uint8Array(20),
        latency: new Uint8Array(20),
        featureNames: [],
        features: [],
      }),
    ),
  ]);
  const res = decodeTelemetryPayload(lying);
  assert.equal(!res.ok && res.code, 'bad-encoding');
  assert.match(!res.ok ? res.reason : '', /column holds 4 bytes, expected 20/);
});

test('compact payloads that break the record invariants are rejected', () => {
  const cols = (over: Record<string, unknown>) =>
    Buffer.concat([
      Buffer.from([0xe1, 2]),
      deflateRawSync(
        pack({
          stream: 's',
          backlog: 0,
          n: 2,
          seq0: 1,
          ts0: 1,
          tsStep: new Uint8Array(8),
          models: [['m', 1]],
          prediction: new Uint8Array(8),
          latency: new Uint8Array(8),
          featureNames: [],
          features: [],
          ...over,
        }),
      ),
    ]);
  assert.ok(decodeTelemetryPayload(cols({})).ok, 'the baseline payload is valid');
  const badStream = decodeTelemetryPayload(cols({ stream: 'a/b' }));
  assert.equal(!badStream.ok && badStream.code, 'invalid');
  assert.match(!badStream.ok ? badStream.reason : '', /stream/);
  assert.match(
    ((r) => (!r.ok ? r.reason : ''))(decodeTelemetryPayload(cols({ seqStep: new Uint8Array(8) }))),
    /strictly increase/,
  );
  assert.match(((r) => (!r.ok ? r.reason : ''))(decodeTelemetryPayload(cols({ models: [['m', 0]] }))), /models/);
  assert.match(
    ((r) => (!r.ok ? r.reason : ''))(decodeTelemetryPayload(cols({ requestIds: ['only-one'] }))),
    /1 request ids for 2 records/,
  );
  assert.match(((r) => (!r.ok ? r.reason : ''))(decodeTelemetryPayload(cols({ n: 6000 }))), /n/);
});

test('the shadow flag round-trips; batches without shadow records encode exactly as before', () => {
  const served = sensorLike(3);
  const withShadow: TelemetryRecord[] = [served[0]!, { ...served[1]!, version: 4, shadow: true }, served[2]!];
  const res = decodeTelemetryPayload(encodeTelemetryBatch({ v: 1, stream: 's', records: withShadow, backlog: 0 }));
  assert.ok(res.ok, !res.ok ? res.reason : '');
  assert.deepEqual(
    res.value.records.map((r) => r.shadow),
    [undefined, true, undefined],
  );
  assert.deepEqual(
    res.value.records.map((r) => r.version),
    [3, 4, 3],
  );

  // Without shadow records nothing new goes on the wire, so old servers and old payloads are unaffected.
  const plain = encodeTelemetryBatch({ v: 1, stream: 's', records: served, backlog: 0 });
  const explicitFalse = encodeTelemetryBatch({
    v: 1,
    stream: 's',
    records: served.map((r) => ({ ...r, shadow: false })),
    backlog: 0,
  });
  assert.deepEqual(explicitFalse, plain);
});

test('a shadow column of the wrong length is refused', () => {
  const cols = {
    stream: 's',
    backlog: 0,
    n: 2,
    seq0: 1,
    ts0: 0,
    tsStep: new Uint8Array(8),
    models: [['m', 1]],
    prediction: new Uint8Array(8),
    latency: new Uint8Array(8),
    featureNames: [],
    features: [],
    shadow: new Uint8Array([1]),
  };
  const res = decodeTelemetryPayload(Buffer.concat([Buffer.from([0xe1, 2]), deflateRawSync(pack(cols))]));
  assert.equal(res.ok, false);
});

test('format 2 stays what deployed servers decode: the columns are byte-for-byte those of earlier releases', () => {
  // Hashes of the inflated MessagePack (deflate output may differ between zlib builds) as
  // encoded by the release before the single-pass encoder; a change here breaks old servers.
  const mixed: TelemetryRecord[] = [
    {
      seq: 10,
      ts: 1000,
      model: 'a',
      version: 1,
      output: [1.5, 2.5, -3],
      prediction: 1,
      latencyMs: 0.5,
      features: { x: 1 },
      requestId: 'r1',
      reference: null,
    },
    {
      seq: 12,
      ts: 990,
      model: 'b',
      version: 7,
      output: [],
      prediction: null,
      latencyMs: 1,
      features: {},
      reference: 4.25,
      shadow: true,
    },
    {
      seq: 13,
      ts: 2000,
      model: 'a',
      version: 1,
      output: [0.25],
      prediction: 0.25,
      latencyMs: 2,
      features: { x: 2, y: 3 },
      requestId: 'r3',
    },
  ];
  const columns = (batch: TelemetryBatch) => {
    const payload = encodeTelemetryBatch(batch);
    assert.deepEqual([...payload.subarray(0, 2)], [0xe1, 2]);
    return createHash('sha256')
      .update(inflateRawSync(payload.subarray(2)))
      .digest('hex');
  };
  assert.equal(
    columns({ v: 1, stream: 's', records: sensorLike(500), backlog: 7 }),
    '2d35e5134bdb74629d44843d0b7e91bf156012284c656f2af0aaae9c02e8b249',
  );
  assert.equal(
    columns({ v: 1, stream: 's1', records: mixed, backlog: 42, historical: true, dropped: 7 }),
    '89a4cccf39ca39ffc74a83563e23c72f86166db52b929d977be8582172638289',
  );
});

test('columns round-trip little-endian and byte-shuffled, with typed-array conversions', () => {
  assert.deepEqual([...packColumn([1, 256], 'u32')], [1, 0, 0, 1, 0, 0, 0, 0]);
  assert.deepEqual(
    [...unpackColumn(packColumn([-1, 2 ** 31 - 1, -(2 ** 31)], 'i32'), 'i32', 3)],
    [-1, 2 ** 31 - 1, -(2 ** 31)],
  );
  assert.deepEqual(
    [...unpackColumn(packColumn([0.1, -2.5, NaN, Infinity], 'f32'), 'f32', 4)],
    [Math.fround(0.1), -2.5, NaN, Infinity],
  );
  assert.throws(() => unpackColumn(new Uint8Array(7), 'f32', 2), /column holds 7 bytes, expected 8/);
});
