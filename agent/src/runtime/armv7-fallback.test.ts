/**
 * The 32-bit Raspberry Pi path, emulated: a child process that reports `process.arch === 'arm'`
 * (set after sharp has loaded its own x64 binary) must pick WASM on "auto" without trying the
 * native binding, load and run a model through ModelRunner, and give what native gives here.
 * That onnxruntime-node really cannot load in that process shows the emulation is faithful:
 * its binding is looked up by process.arch, exactly as on a real armv7 device.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { makeTensor, tensorToNumbers } from './model-runner.js';
import { selectBackend } from './select-backend.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

const CHILD = `
await import('sharp');
Object.defineProperty(process, 'arch', { value: 'arm' });
const { selectBackend } = await import(${JSON.stringify(here('./select-backend.ts'))});
const { ModelRunner, makeTensor, tensorToNumbers } = await import(${JSON.stringify(here('./model-runner.ts'))});
const { readFileSync } = await import('node:fs');
const logs = [];
const backend = await selectBackend('auto', { info: (_d, m) => logs.push('info: ' + m), warn: (_d, m) => logs.push('warn: ' + m) });
const bytes = readFileSync(${JSON.stringify(SAMPLE_MODELS.v1)});
const manifest = {
  name: 'distance', version: 1, preprocessing: { kind: 'none' },
  inputs: [{ name: 'image', dtype: 'float32', shape: ['batch', 3, 48, 64] }],
  outputs: [{ name: 'distance', dtype: 'float32', shape: ['batch', 1] }],
};
const runner = await ModelRunner.load(manifest, bytes, { backend });
const out = await runner.run({ image: makeTensor('float32', new Array(3 * 48 * 64).fill(0.25), [1, 3, 48, 64]) });
await runner.release();
let nativeError = null;
try { await import('onnxruntime-node'); } catch (err) { nativeError = String(err.message).split('\\n')[0]; }
console.log(JSON.stringify({ backend: backend.name, logs, distance: tensorToNumbers(out.distance), nativeError }));
`;

test('an armv7 device runs models on WASM and never touches onnxruntime-node', { timeout: 60_000 }, async () => {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    encoding: 'utf8',
    timeout: 50_000,
  });
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
    backend: string;
    logs: string[];
    distance: number[];
    nativeError: string | null;
  };

  assert.equal(result.backend, 'onnxruntime-web');
  assert.deepEqual(result.logs, ['info: no native ONNX Runtime for arm; using the WASM backend']);
  assert.match(
    result.nativeError ?? 'onnxruntime-node loaded',
    /Cannot find module .*\/arm\/onnxruntime_binding\.node/,
  );

  const native = await (
    await selectBackend('native')
  ).createSession(readFileSync(SAMPLE_MODELS.v1), { intraOpThreads: 1 });
  const expected = tensorToNumbers(
    (await native.run({ image: makeTensor('float32', new Array<number>(3 * 48 * 64).fill(0.25), [1, 3, 48, 64]) }))
      .distance!,
  );
  await native.release();
  assert.equal(result.distance.length, 1);
  assert.ok(
    Math.abs(result.distance[0]! - expected[0]!) <= 1e-4,
    `wasm ${result.distance[0]} vs native ${expected[0]}`,
  );
});
