/**
 * @module predict/test-models
 * For predictor and predict-route tests: tiny ONNX echo models (output `y` = input `x`, so every
 * argmax or regression result is known in advance) served by a real Predictor over a real SQLite
 * buffer in a temp directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANIFEST_SCHEMA, type Manifest, type Postprocessing, type TensorSpec } from '@edgeloop/protocol';
// Test-only reach into the models workspace: the ONNX builder is not part of its API.
import { node, serializeModel, valueInfo, type Dim } from '@edgeloop/models/onnx-graph';
import { ActiveModels } from '../runtime/active-models.js';
import { ModelRunner } from '../runtime/model-runner.js';
import { openAgentDb } from '../store/agent-db.js';
import { RecordBuffer } from '../store/record-buffer.js';
import { Predictor } from './predictor.js';

/** An ONNX model whose output `y` echoes its input `x` (so argmax/regression results are known). */
function echoModel(shape: readonly Dim[]): Uint8Array {
  return serializeModel({
    graph: {
      name: 'echo',
      nodes: [node({ opType: 'Identity', inputs: ['x'], outputs: ['y'] })],
      initializers: [],
      inputs: [valueInfo('x', 'float32', shape)],
      outputs: [valueInfo('y', 'float32', shape)],
    },
  });
}

function manifestFor(
  name: string,
  shape: Array<number | string>,
  postprocessing: Postprocessing,
  size: number,
): Manifest {
  const spec: TensorSpec = { name: 'x', dtype: 'float32', shape };
  return {
    schema: MANIFEST_SCHEMA,
    name,
    version: 1,
    artifact: { sha256: '0'.repeat(64), size, mediaType: 'application/onnx' },
    created: new Date(0).toISOString(),
    expires: new Date(1e13).toISOString(),
    targets: { arch: ['x64', 'arm64', 'arm'], hardware: [] },
    inputs: [spec],
    outputs: [{ ...spec, name: 'y' }],
    preprocessing: { kind: 'none' },
    postprocessing,
  } as Manifest;
}

const LABELS = ['cat', 'dog', 'fox', 'owl'];

/** One predictor serving argmax (`classes`), regression (`level`), raw (`echo`) and a rank-1 sequence model (`seq`). */
export async function setupEchoModels() {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-predictor-'));
  const db = openAgentDb(join(dir, 'agent.db'));
  const buffer = new RecordBuffer(db);
  const models = new ActiveModels();
  const batched = echoModel(['batch', 4]);
  const sequence = echoModel(['length']);
  const load = async (m: Manifest, bytes: Uint8Array) =>
    models.swap(await ModelRunner.load(m, bytes, { intraOpThreads: 1 }));
  await load(
    manifestFor('classes', ['batch', 4], { kind: 'argmax', output: 'y', labels: LABELS }, batched.length),
    batched,
  );
  await load(manifestFor('level', [-1, 4], { kind: 'regression', output: 'y' }, batched.length), batched);
  await load(manifestFor('echo', ['batch', 4], { kind: 'raw' }, batched.length), batched);
  await load(manifestFor('seq', ['length'], { kind: 'regression', output: 'y' }, sequence.length), sequence);
  const predictor = new Predictor(models, buffer, 'test-stream');
  return {
    predictor,
    buffer,
    async close() {
      await models.closeAll();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
