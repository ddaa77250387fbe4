/**
 * @module bench
 * `npm run bench [-- --json] [-- --only <prefix>]`: speed and memory figures, each with a
 * baseline measured in the same run. Human output by default; --json prints one object per line:
 * {"name": …, "value": …, "unit": …, "baseline": …}.
 */
import { parseArgs } from 'node:util';
import type { Bench } from './bench/figure.js';
import { bufferBench } from './bench/buffer.bench.js';
import { predictBench } from './bench/predict.bench.js';
import { detectBench } from './bench/detect.bench.js';
import { syncBench } from './bench/sync.bench.js';
import { rssBench } from './bench/rss.bench.js';
import { rolloutBench } from './bench/rollout.bench.js';
import { ingestBench } from './bench/ingest.bench.js';
import { ingestPostgresBench } from './bench/ingest-postgres.bench.js';
import { rollupBytesBench } from './bench/rollup-bytes.bench.js';
import { idleBench } from './bench/idle.bench.js';
import { installSizeBench } from './bench/install-size.bench.js';
import { scaleAckBench, scaleDevicesBench } from './bench/scale.bench.js';
import { scaleInstancesBench } from './bench/scale-instances.bench.js';
import { scaleConnectBench } from './bench/scale-connect.bench.js';
import { trainBench } from './bench/train.bench.js';
import { datasetsBench } from './bench/datasets.bench.js';
import { simBench } from './bench/sim.bench.js';
import { detectLatencyBench, falseAlertsBench } from './bench/drift.bench.js';
import { metricsBench } from './bench/metrics.bench.js';
import { loopBench } from './bench/loop.bench.js';
import { consoleAssetsBench } from './bench/console-assets.bench.js';
import { consoleBench } from './bench/console.bench.js';

const BENCHES: Bench[] = [
  predictBench,
  detectBench,
  rssBench,
  idleBench,
  bufferBench,
  syncBench,
  ingestBench,
  ingestPostgresBench,
  rollupBytesBench,
  rolloutBench,
  installSizeBench,
  scaleAckBench,
  scaleDevicesBench,
  scaleInstancesBench,
  scaleConnectBench,
  trainBench,
  datasetsBench,
  simBench,
  detectLatencyBench,
  falseAlertsBench,
  metricsBench,
  loopBench,
  consoleAssetsBench,
  consoleBench,
];

const { values } = parseArgs({
  options: { json: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(`usage: npm run bench -- [--json] [--only PREFIX]\nbenchmarks: ${BENCHES.map((b) => b.name).join(', ')}`);
  process.exit(0);
}
const selected = BENCHES.filter((b) => !values.only || b.name.startsWith(values.only));
if (selected.length === 0) {
  console.error(`no benchmark starts with "${values.only}"; available: ${BENCHES.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
for (const bench of selected) {
  const progress = (msg: string) => process.stderr.write(`[bench ${bench.name}] ${msg}\n`);
  for (const f of await bench.run(progress)) {
    if (values.json)
      console.log(
        JSON.stringify({
          name: f.name,
          value: +f.value.toPrecision(6),
          unit: f.unit,
          baseline: f.baseline === null ? null : +f.baseline.toPrecision(6),
        }),
      );
    else
      console.log(
        `${f.name.padEnd(30)} ${f.value.toPrecision(4).padStart(10)} ${f.unit.padEnd(10)} baseline ${f.baseline === null ? '—' : f.baseline.toPrecision(4)}  (${f.note})`,
      );
  }
}
