/**
 * @module bench/detect
 * agent.detect_overhead_ms: the p50 latency on-device monitoring adds to a prediction. Two
 * predictors in this process serve the sample model over their own fsynced SQLite buffers, one
 * with monitoring on (local windows, the Page-Hinkley detector against a baseline, the default
 * device rules judged every second), one without; requests alternate between them in rounds, so
 * both see the same machine load. Folding runs after each answer (setImmediate), so what it
 * costs shows up in the next request's latency, as it would on a device under steady load.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import sharp from 'sharp';
import { inspectOnnx, SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import {
  FEATURE_EDGES,
  IMAGE_FEATURES,
  MANIFEST_SCHEMA,
  manifestSchema,
  type Manifest,
  type TrainingSummary,
} from '@edgeloop/protocol';
import {
  ActiveModels,
  agentConfigSchema,
  KeyValue,
  ModelRunner,
  monitoringConfigSchema,
  openAgentDb,
  Predictor,
  RecordBuffer,
  startAgentOutbox,
  startMonitoring,
} from '@edgeloop/agent/testing';
import { percentile, timeEach, type Bench } from './figure.js';

const ROUNDS = 10;
const PER_ROUND = 100;

export const detectBench: Bench = {
  name: 'agent.detect_overhead_ms',
  async run(progress) {
    const bytes = readFileSync(SAMPLE_MODELS.v1);
    const inspected = inspectOnnx(bytes);
    const meta = JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')) as Pick<
      Manifest,
      'preprocessing' | 'postprocessing'
    >;
    // A flat baseline over every image feature: the detector's cost does not depend on its values.
    const baseline: TrainingSummary = { count: 1000, features: {} };
    for (const f of IMAGE_FEATURES) {
      const edges = FEATURE_EDGES[f];
      if (!edges) continue;
      baseline.features[f] = { edges: [...edges], counts: new Array<number>(edges.length - 1).fill(10) };
    }
    const manifest = manifestSchema.parse({
      schema: MANIFEST_SCHEMA,
      name: 'distance',
      version: 1,
      artifact: { sha256: '0'.repeat(64), size: bytes.length, mediaType: 'application/onnx' },
      created: new Date(0).toISOString(),
      expires: new Date(1e13).toISOString(),
      targets: { arch: ['x64', 'arm64', 'arm'], hardware: [] },
      inputs: inspected.inputs,
      outputs: inspected.outputs,
      ...meta,
      baseline,
      validationMae: 4,
    });
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-bench-detect-'));
    const log = pino({ level: 'silent' });
    const closers: Array<() => Promise<void> | void> = [];
    const predictorWith = async (name: string, monitored: boolean) => {
      const db = openAgentDb(join(dir, `${name}.db`));
      const buffer = new RecordBuffer(db);
      const models = new ActiveModels();
      await models.swap(await ModelRunner.load(manifest, bytes, { intraOpThreads: 1 }));
      let flagged: ((model: string, version: number) => boolean) | undefined;
      if (monitored) {
        const sending = startAgentOutbox({
          sync: agentConfigSchema.shape.sync.parse({}),
          db,
          stream: name,
          buffer,
          dropped: () => 0,
          session: () => undefined,
          publish: () => Promise.reject(new Error('offline')),
          log,
        });
        const monitoring = startMonitoring({
          config: monitoringConfigSchema.parse({ evaluateEveryMs: 1000 }),
          db,
          kv: new KeyValue(db),
          stream: name,
          buffer,
          manifests: (m) => (m === manifest.name ? [manifest] : []),
          sending,
          registry: new Registry(),
          log,
        });
        flagged = monitoring.flagged;
        closers.push(() => {
          monitoring.close();
          sending.outbox.close();
        });
      }
      closers.push(async () => {
        await models.closeAll();
        db.close();
      });
      return new Predictor(models, buffer, name, flagged ? { flagged } : {});
    };
    try {
      const off = await predictorWith('off', false);
      const on = await predictorWith('on', true);
      const jpeg = await sharp({
        create: { width: 160, height: 120, channels: 3, background: { r: 214, g: 196, b: 160 } },
      })
        .jpeg()
        .toBuffer();
      const predict = (p: Predictor) => () =>
        p.predict('distance', { kind: 'image', body: jpeg, contentType: 'image/jpeg' });
      const samples = { off: [] as number[], on: [] as number[] };
      await timeEach(50, predict(off));
      await timeEach(50, predict(on));
      for (let round = 0; round < ROUNDS; round++) {
        progress(`round ${round + 1}/${ROUNDS}: ${PER_ROUND} predictions without, then with monitoring`);
        samples.off.push(...(await timeEach(PER_ROUND, predict(off))));
        samples.on.push(...(await timeEach(PER_ROUND, predict(on))));
      }
      const p50Off = percentile(samples.off, 50);
      const p50On = percentile(samples.on, 50);
      return [
        {
          name: 'agent.detect_overhead_ms',
          value: p50On - p50Off,
          unit: 'ms',
          baseline: 0.1,
          note: `p50 per prediction with on-device monitoring ${p50On.toFixed(3)} ms vs without ${p50Off.toFixed(3)} ms (160×120 JPEG, sample model, fsynced buffer; target ≤ 0.1 ms)`,
        },
      ];
    } finally {
      for (const close of closers.reverse()) await close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
