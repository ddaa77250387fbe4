import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage } from './codec.js';
import { telemetryBatchSchema, presenceSchema } from './messages.js';

const record = { seq: 1, ts: 1, model: 'm', version: 1, output: [1.5], latencyMs: 0.3, features: { brightness: 0.4 } };

test('valid telemetry batches decode', () => {
  const res = decodeMessage(
    telemetryBatchSchema,
    encodeMessage({ v: 1, stream: 's1', records: [record, { ...record, seq: 2 }], backlog: 0 }),
  );
  assert.ok(res.ok);
});

test('bad payloads are rejected with a reason naming the field', () => {
  const notJson = decodeMessage(telemetryBatchSchema, Buffer.from('{nope'));
  assert.equal(!notJson.ok && notJson.code, 'not-json');
  const invalid = decodeMessage(
    telemetryBatchSchema,
    encodeMessage({ v: 1, stream: 's1', records: [{ ...record, seq: 'x' }], backlog: 0 }),
  );
  assert.equal(!invalid.ok && invalid.code, 'invalid');
  assert.match(!invalid.ok ? invalid.reason : '', /records\.0\.seq/);
  const unordered = decodeMessage(
    telemetryBatchSchema,
    encodeMessage({ v: 1, stream: 's1', records: [{ ...record, seq: 2 }, record], backlog: 0 }),
  );
  assert.match(!unordered.ok ? unordered.reason : '', /increasing seq/);
  const big = decodeMessage(presenceSchema, Buffer.alloc(100, 32), 10);
  assert.equal(!big.ok && big.code, 'too-large');
});
