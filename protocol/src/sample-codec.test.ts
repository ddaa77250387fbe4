import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack } from 'msgpackr';
import { decodeSample, encodeSample, type Sample } from './sample-codec.js';

const sample: Sample = {
  v: 1,
  stream: 's1',
  id: 4,
  seq: 99,
  model: 'distance',
  version: 2,
  ts: 1_795_000_000_000,
  reason: 'large-error',
  prediction: 151.25,
  reference: 190,
  contentType: 'image/jpeg',
  data: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]),
};

test('samples round-trip with their bytes intact', () => {
  const res = decodeSample(encodeSample(sample));
  assert.ok(res.ok, !res.ok ? res.reason : '');
  assert.deepEqual([...res.value.data], [...sample.data]);
  assert.equal(res.value.reference, 190);
});

test('foreign, corrupt and invalid sample payloads are rejected with a reason', () => {
  assert.equal(((r) => !r.ok && r.code)(decodeSample(Buffer.from('{"v":1}'))), 'bad-encoding');
  assert.equal(((r) => !r.ok && r.code)(decodeSample(Buffer.from([0xe1, 3, 0x85, 0xa1]))), 'bad-encoding');
  const bad = decodeSample(
    Buffer.concat([Buffer.from([0xe1, 3]), pack({ ...sample, contentType: 'jpeg', data: new Uint8Array() })]),
  );
  assert.equal(!bad.ok && bad.code, 'invalid');
  assert.match(!bad.ok ? bad.reason : '', /contentType/);
});
