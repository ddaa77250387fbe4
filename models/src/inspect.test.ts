import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspectOnnx, NotAnOnnxModelError } from './inspect.js';
import { SAMPLE_MODELS } from './index.js';

test('inspects the sample model: inputs, outputs, symbolic batch dimension', () => {
  const info = inspectOnnx(readFileSync(SAMPLE_MODELS.v1));
  assert.deepEqual(info.inputs, [{ name: 'image', dtype: 'float32', shape: ['batch', 3, 48, 64] }]);
  assert.deepEqual(info.outputs, [{ name: 'distance', dtype: 'float32', shape: ['batch', 1] }]);
  assert.equal(info.opsetVersion, 17);
});

test('files that are not ONNX models are refused with a reason', () => {
  for (const bytes of [
    Buffer.from('hello, I am a text file'),
    Buffer.alloc(0),
    Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]),
  ]) {
    assert.throws(() => inspectOnnx(bytes), NotAnOnnxModelError);
  }
});
