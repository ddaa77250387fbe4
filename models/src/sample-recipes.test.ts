/**
 * @module sample-recipes.test
 * The committed samples are the bytes `scripts/train-samples.ts` recorded for them. The rebuild
 * itself needs the simulator, so it is checked in test/integration/sample-models.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { SAMPLE_MODELS, SAMPLE_SUMS_PATH, parseSums, type SampleVersion } from './index.js';

test('the committed samples match models/sample/SHA256SUMS', () => {
  const sums = parseSums(readFileSync(SAMPLE_SUMS_PATH, 'utf8'));
  for (const version of Object.keys(SAMPLE_MODELS) as SampleVersion[]) {
    const file = SAMPLE_MODELS[version];
    const actual = createHash('sha256').update(readFileSync(file)).digest('hex');
    assert.equal(
      actual,
      sums.get(basename(file)),
      `${basename(file)} differs from SHA256SUMS: run \`npx tsx scripts/train-samples.ts <dir> --install\` and commit models/sample/`,
    );
  }
});

test('sums are read in sha256sum format, text or binary mode, ignoring other lines', () => {
  const hex = 'a'.repeat(64);
  const sums = parseSums(`${hex}  one.onnx\n${'b'.repeat(64)} *two.onnx\n# comment\nnot a sum\n`);
  assert.deepEqual(
    [...sums],
    [
      ['one.onnx', hex],
      ['two.onnx', 'b'.repeat(64)],
    ],
  );
});
