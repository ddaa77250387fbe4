/**
 * @module reference-model.test
 *
 * Guards what tests across EdgeLoop rely on: the synthetic reference model is reproducible
 * byte-for-byte and runs in onnxruntime-node with plausible, brightness-dependent output of a
 * known form; the committed (trained) samples expose the same tensor spec.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  buildReferenceModel,
  REFERENCE_INPUT,
  REFERENCE_OUTPUT,
  SAMPLE_MODELS,
  SYNTHETIC_MODEL_OPTIONS,
  type SampleVersion,
} from './index.js';

const [, CHANNELS, HEIGHT, WIDTH] = REFERENCE_INPUT.shape;
const PIXELS = CHANNELS * HEIGHT * WIDTH;

/** One batch with a uniformly grey image per requested brightness. */
function greyBatch(levels: readonly number[]): ort.Tensor {
  const data = new Float32Array(levels.length * PIXELS);
  levels.forEach((level, i) => data.fill(level, i * PIXELS, (i + 1) * PIXELS));
  return new ort.Tensor('float32', data, [levels.length, CHANNELS, HEIGHT, WIDTH]);
}

async function openSample(version: SampleVersion): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(await readFile(SAMPLE_MODELS[version]));
}

async function openSynthetic(version: SampleVersion): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(buildReferenceModel(SYNTHETIC_MODEL_OPTIONS[version]));
}

async function distances(session: ort.InferenceSession, levels: readonly number[]): Promise<number[]> {
  const out = await session.run({ [REFERENCE_INPUT.name]: greyBatch(levels) });
  const tensor = out[REFERENCE_OUTPUT.name];
  assert.ok(tensor, `output ${REFERENCE_OUTPUT.name} missing`);
  assert.equal(tensor.type, 'float32');
  assert.deepEqual(tensor.dims, [levels.length, 1]);
  return Array.from(tensor.data as Float32Array);
}

describe('buildReferenceModel', () => {
  it('is deterministic: same options give byte-identical models', () => {
    const a = buildReferenceModel({ seed: 7, bias: 120, gain: 180 });
    const b = buildReferenceModel({ seed: 7, bias: 120, gain: 180 });
    assert.ok(a.byteLength > 0);
    assert.ok(Buffer.from(a).equals(b));
  });

  it('changes bytes when the seed changes', () => {
    assert.ok(!Buffer.from(buildReferenceModel({ seed: 1 })).equals(buildReferenceModel({ seed: 2 })));
  });

  it('rejects image sizes the pooling cannot tile', () => {
    assert.throws(() => buildReferenceModel({ seed: 1, height: 50 }), RangeError);
  });
});

describe('committed sample models in onnxruntime-node', () => {
  it('expose the documented input/output names and answer a batch', async () => {
    for (const version of ['v1', 'v2'] as const) {
      const session = await openSample(version);
      assert.deepEqual(session.inputNames, [REFERENCE_INPUT.name]);
      assert.deepEqual(session.outputNames, [REFERENCE_OUTPUT.name]);
      const [dark, bright] = await distances(session, [0.2, 0.8]);
      assert.ok(Number.isFinite(dark) && Number.isFinite(bright), `${version}: ${dark}, ${bright}`);
      await session.release();
    }
  });
});

describe('the synthetic pair in onnxruntime-node', () => {
  it('predicts plausible distances that grow with brightness and differ between versions', async () => {
    const v1 = await openSynthetic('v1');
    const v2 = await openSynthetic('v2');
    const [dark1, bright1] = (await distances(v1, [0.2, 0.8])) as [number, number];
    const [dark2, bright2] = (await distances(v2, [0.2, 0.8])) as [number, number];
    await Promise.all([v1.release(), v2.release()]);

    for (const d of [dark1, bright1, dark2, bright2]) {
      assert.ok(Number.isFinite(d), `non-finite distance ${d}`);
    }
    assert.ok(bright1 > dark1, `v1: brighter should be farther (${dark1} vs ${bright1})`);
    assert.ok(bright2 > dark2, `v2: brighter should be farther (${dark2} vs ${bright2})`);
    // Roughly bias + gain * mean: v1 defaults are 100 + 200 * level, within a few mm.
    assert.ok(Math.abs(dark1 - 140) < 10, `v1 dark ${dark1}`);
    assert.ok(Math.abs(bright1 - 260) < 10, `v1 bright ${bright1}`);
    // "Measurably different" means more than float noise, so a rollout's effect is visible.
    assert.ok(Math.abs(dark1 - dark2) > 0.5, `v1 ${dark1} vs v2 ${dark2}`);
    assert.ok(Math.abs(bright1 - bright2) > 0.5, `v1 ${bright1} vs v2 ${bright2}`);
  });
});
