/**
 * The native and WASM backends must be interchangeable: same tensor names, same outputs (within
 * 1e-4) for our sample model and for a real third-party detector, every supported dtype intact
 * through TensorData, and a selection that falls back to WASM where native cannot run.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { MANIFEST_SCHEMA, type Manifest } from '@edgeloop/protocol';
// Test-only entry points of sibling workspaces (development dependencies of the agent): the ONNX
// builder, and the third-party model locator shared with the cross-package acceptance test.
import { node, serializeModel } from '@edgeloop/models/onnx-graph';
import { DETECTOR, MISSING_MODEL_MESSAGE, thirdPartyModelPath } from '@edgeloop/test/support/third-party-model';
import type { InferenceBackend, TensorData } from './backend.js';
import { makeTensor, ModelRunner, tensorToNumbers } from './model-runner.js';
import { NATIVE_ARCHES, selectBackend } from './select-backend.js';

const TOLERANCE = 1e-4;
const native = await selectBackend('native');
const wasm = await selectBackend('wasm');

/** Deterministic pseudo-random floats in [lo, hi): inputs that are not trivially symmetric. */
function floats(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s / 2 ** 32) * (hi - lo);
  });
}

function maxAbsDiff(a: TensorData, b: TensorData): number {
  assert.deepEqual(a.dims, b.dims);
  assert.equal(a.dtype, b.dtype);
  const x = tensorToNumbers(a),
    y = tensorToNumbers(b);
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
}

/** Runs the same feeds on both backends; returns the largest difference over all outputs. */
async function compareBackends(model: Uint8Array, feedSets: Array<Record<string, TensorData>>) {
  const [n, w] = await Promise.all([
    native.createSession(model, { intraOpThreads: 1 }),
    wasm.createSession(model, { intraOpThreads: 0 }),
  ]);
  try {
    assert.deepEqual(w.inputNames, n.inputNames);
    assert.deepEqual(w.outputNames, n.outputNames);
    let worst = 0;
    for (const feeds of feedSets) {
      const [a, b] = [await n.run(feeds), await w.run(feeds)];
      assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
      for (const name of Object.keys(a)) worst = Math.max(worst, maxAbsDiff(a[name]!, b[name]!));
    }
    return worst;
  } finally {
    await Promise.all([n.release(), w.release()]);
  }
}

async function p50Ms(run: () => Promise<unknown>, times = 200): Promise<number> {
  for (let i = 0; i < 20; i++) await run();
  const took: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await run();
    took.push(performance.now() - t0);
  }
  return took.sort((a, b) => a - b)[Math.floor(times / 2)]!;
}

// First, so it is the session that initialises the process-wide WASM runtime.
test('the WASM runtime loads from node_modules without any network access', async () => {
  const realFetch = globalThis.fetch;
  const fetched: string[] = [];
  globalThis.fetch = (async (url: unknown) => {
    fetched.push(String(url));
    throw new Error('network access from the WASM backend');
  }) as typeof fetch;
  try {
    const session = await wasm.createSession(readFileSync(SAMPLE_MODELS.v1), { intraOpThreads: 0 });
    await session.release();
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.deepEqual(fetched, []);
});

describe('native and WASM give the same results', () => {
  test('the sample reference model', async (t) => {
    const model = readFileSync(SAMPLE_MODELS.v1);
    const feeds = [1, 2, 3].map((seed) => ({
      image: makeTensor('float32', floats(2 * 3 * 48 * 64, seed), [2, 3, 48, 64]),
    }));
    const worst = await compareBackends(model, feeds);
    t.diagnostic(`sample model: max |native - wasm| = ${worst.toExponential(2)}`);
    assert.ok(worst <= TOLERANCE, `max abs diff ${worst}`);

    const [n, w] = await Promise.all([
      native.createSession(model, { intraOpThreads: 1 }),
      wasm.createSession(model, { intraOpThreads: 0 }),
    ]);
    const one = { image: makeTensor('float32', floats(3 * 48 * 64, 9), [1, 3, 48, 64]) };
    t.diagnostic(
      `sample model p50 (1 thread): native ${(await p50Ms(() => n.run(one))).toFixed(3)} ms, wasm ${(await p50Ms(() => w.run(one))).toFixed(3)} ms`,
    );
    await Promise.all([n.release(), w.release()]);
  });

  test('a third-party pretrained detector (PaddleOCR PP-OCRv4 det)', async (t) => {
    const path = thirdPartyModelPath();
    if (!path) {
      console.warn(`\n*** ${MISSING_MODEL_MESSAGE} ***\n`);
      return t.skip(MISSING_MODEL_MESSAGE);
    }
    const shape = [1, 3, DETECTOR.height, DETECTOR.width];
    // Normalised pixels span roughly -2.1..2.6 after ImageNet mean/std.
    const feeds = [1, 2].map((seed) => ({
      [DETECTOR.input]: makeTensor('float32', floats(3 * DETECTOR.height * DETECTOR.width, seed, -2.1, 2.6), shape),
    }));
    const worst = await compareBackends(readFileSync(path), feeds);
    t.diagnostic(`PP-OCRv4 det: max |native - wasm| = ${worst.toExponential(2)}`);
    assert.ok(worst <= TOLERANCE, `max abs diff ${worst}`);
  });

  test('through ModelRunner (manifest check, warm-up at the preprocessing size, run)', async () => {
    const bytes = readFileSync(SAMPLE_MODELS.v1);
    const manifest: Manifest = {
      schema: MANIFEST_SCHEMA,
      name: 'distance',
      version: 1,
      artifact: { sha256: '0'.repeat(64), size: bytes.length, mediaType: 'application/onnx' },
      created: new Date(0).toISOString(),
      expires: new Date(1e13).toISOString(),
      targets: { arch: ['x64', 'arm64', 'arm'], hardware: [] },
      inputs: [{ name: 'image', dtype: 'float32', shape: ['batch', 3, 48, 64] }],
      outputs: [{ name: 'distance', dtype: 'float32', shape: ['batch', 1] }],
      preprocessing: {
        kind: 'image',
        input: 'image',
        width: 64,
        height: 48,
        layout: 'NCHW',
        colorOrder: 'RGB',
        resize: 'fill',
        scale: 1 / 255,
        mean: [0, 0, 0],
        std: [1, 1, 1],
      },
      postprocessing: { kind: 'regression', output: 'distance' },
    };
    const feeds = { image: makeTensor('float32', new Array<number>(3 * 48 * 64).fill(0.5), [1, 3, 48, 64]) };
    const results: number[][] = [];
    for (const backend of [native, wasm]) {
      const runner = await ModelRunner.load(manifest, bytes, { intraOpThreads: 1, backend });
      assert.equal(runner.backend.name, backend.name);
      results.push(tensorToNumbers((await runner.run(feeds)).distance!));
      await runner.release();
    }
    assert.ok(Math.abs(results[0]![0]! - results[1]![0]!) <= TOLERANCE, JSON.stringify(results));
  });
});

/** A graph that echoes one input of every supported dtype, plus uint8 + int64 computed in-graph. */
function dtypeEchoModel(): Uint8Array {
  const ELEM = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float64: 11 } as const;
  const info = (name: string, dtype: keyof typeof ELEM) => ({
    name,
    type: { tensorType: { elemType: ELEM[dtype], shape: { dim: [{ dimValue: 4 }] } } },
  });
  const dtypes = Object.keys(ELEM) as Array<keyof typeof ELEM>;
  return serializeModel({
    graph: {
      name: 'dtype_echo',
      nodes: [
        ...dtypes.map((d) => node({ opType: 'Identity', inputs: [`in_${d}`], outputs: [`out_${d}`] })),
        node({
          opType: 'Cast',
          inputs: ['in_uint8'],
          outputs: ['uint8_as_int64'],
          attributes: { to: { int: ELEM.int64 } },
        }),
        node({ opType: 'Add', inputs: ['uint8_as_int64', 'in_int64'], outputs: ['sum_int64'] }),
      ],
      initializers: [],
      inputs: dtypes.map((d) => info(`in_${d}`, d)),
      outputs: [...dtypes.map((d) => info(`out_${d}`, d)), info('sum_int64', 'int64')],
    },
  });
}

test('every supported dtype survives the TensorData round trip on both backends', async () => {
  const model = dtypeEchoModel();
  // int64 beyond 2^53 proves values never pass through a JS number on the way.
  const big = [-(2n ** 62n), -1n, 2n ** 53n + 1n, 2n ** 62n];
  const feeds: Record<string, TensorData> = {
    in_float32: makeTensor('float32', [0.5, -1.25, 3e38, -0], [4]),
    in_float64: makeTensor('float64', [Math.PI, -1e300, 1e-300, 0], [4]),
    in_uint8: makeTensor('uint8', [0, 1, 128, 255], [4]),
    in_int8: makeTensor('int8', [-128, -1, 0, 127], [4]),
    in_int32: makeTensor('int32', [-(2 ** 31), -7, 7, 2 ** 31 - 1], [4]),
    in_int64: { dtype: 'int64', data: BigInt64Array.from(big), dims: [4] },
    in_bool: makeTensor('bool', [1, 0, 0, 1], [4]),
  };
  for (const backend of [native, wasm]) {
    const session = await backend.createSession(model, { intraOpThreads: 1 });
    const out = await session.run(feeds);
    for (const [name, input] of Object.entries(feeds)) {
      const echoed = out[name.replace('in_', 'out_')]!;
      assert.equal(echoed.dtype, input.dtype, `${backend.name} ${name}`);
      assert.equal(echoed.data.constructor, input.data.constructor, `${backend.name} ${name}`);
      assert.deepEqual(
        Array.from(echoed.data as ArrayLike<number | bigint>),
        Array.from(input.data as ArrayLike<number | bigint>),
        `${backend.name} ${name}`,
      );
      assert.deepEqual(echoed.dims, [4]);
    }
    assert.deepEqual(Array.from(out.sum_int64!.data as BigInt64Array), [
      -(2n ** 62n),
      0n,
      2n ** 53n + 129n,
      2n ** 62n + 255n,
    ]);
    // Outputs belong to JS: a later run must not overwrite an earlier result (WASM heap reuse).
    await session.run({ ...feeds, in_uint8: makeTensor('uint8', [9, 9, 9, 9], [4]) });
    assert.deepEqual(Array.from(out.out_uint8!.data as Uint8Array), [0, 1, 128, 255], backend.name);
    const mislabelled: TensorData = { dtype: 'int64', data: Float32Array.of(1, 2, 3, 4), dims: [4] };
    await assert.rejects(
      session.run({ ...feeds, in_int64: mislabelled }),
      /input "in_int64": dtype int64 needs a BigInt64Array, got Float32Array/,
    );
    await session.release();
  }
  assert.deepEqual(tensorToNumbers(makeTensor('int64', [1, -2, 3], [3])), [1, -2, 3]);
});

describe('selectBackend', () => {
  const quiet = { info: () => undefined, warn: () => undefined };
  const failingNative = async (): Promise<InferenceBackend> => {
    throw new Error("Cannot find module '../bin/napi-v6/linux/arm/onnxruntime_binding.node'\nRequire stack: ...");
  };

  test('"wasm" gives onnxruntime-web, "native" gives onnxruntime-node', () => {
    assert.equal(wasm.name, 'onnxruntime-web');
    assert.equal(native.name, 'onnxruntime-node');
    assert.match(wasm.version, /^1\.\d+\.\d+/);
    assert.match(native.version, /^1\.\d+\.\d+/);
  });

  test(
    '"auto" picks native on this machine',
    { skip: !NATIVE_ARCHES.includes(process.arch) && `no native binary for ${process.arch}` },
    async () => {
      assert.equal((await selectBackend('auto', quiet)).name, 'onnxruntime-node');
    },
  );

  test('"auto" on 32-bit ARM goes to WASM without touching onnxruntime-node, and says why', async () => {
    const logged: string[] = [];
    let nativeTried = false;
    const backend = await selectBackend(
      'auto',
      { info: (_d, msg) => logged.push(msg), warn: quiet.warn },
      {
        arch: 'arm',
        loadNative: async () => {
          nativeTried = true;
          return native;
        },
      },
    );
    assert.equal(backend.name, 'onnxruntime-web');
    assert.equal(nativeTried, false);
    assert.match(logged.join('\n'), /no native ONNX Runtime for arm; using the WASM backend/);
  });

  test('"auto" falls back to WASM when the native binding does not load', async () => {
    const warned: Array<{ details: object; msg: string }> = [];
    const backend = await selectBackend(
      'auto',
      { info: quiet.info, warn: (details, msg) => warned.push({ details, msg }) },
      { arch: 'x64', loadNative: failingNative },
    );
    assert.equal(backend.name, 'onnxruntime-web');
    assert.match(warned[0]!.msg, /did not load; using the WASM backend/);
    assert.match(JSON.stringify(warned[0]!.details), /Cannot find module/);
  });

  test('"native" that cannot load fails with a clear way out', async () => {
    await assert.rejects(selectBackend('native', quiet, { arch: 'arm', loadNative: failingNative }), (err: Error) => {
      assert.match(err.message, /"native" but onnxruntime-node does not load on \w+\/arm/);
      assert.match(err.message, /set runtime\.backend to "wasm"/);
      assert.doesNotMatch(err.message, /Require stack/);
      return true;
    });
  });
});
