/**
 * @module generate-dataset
 * CLI: a dataset folder from the simulator.
 *
 *   npx tsx simulator/src/generate-dataset.ts --scenario baseline --count 2000 --seed 1 --out DIR
 *     [--phase NAME] [--width 160 --height 120] [--no-features] [--name NAME] [--threads N]
 */
import { parseArgs } from 'node:util';
import { generateDataset } from './dataset/generate.js';
import { builtinScenarios } from './scenario/load.js';

const USAGE = `usage: npx tsx simulator/src/generate-dataset.ts --scenario NAME|FILE --count N --seed N --out DIR
         [--phase NAME] [--width PX] [--height PX] [--no-features] [--name NAME] [--threads N]
shipped scenarios: ${builtinScenarios().join(', ')}`;

function fail(message: string): never {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

function integer(value: string | undefined, name: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) fail(`--${name} is required`);
    return fallback;
  }
  const n = Number(value);
  if (!Number.isInteger(n)) fail(`--${name} must be a whole number, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        scenario: { type: 'string' },
        phase: { type: 'string' },
        count: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
        name: { type: 'string' },
        threads: { type: 'string' },
        'no-features': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.scenario) fail('--scenario is required');
  if (!values.out) fail('--out is required (a new folder)');
  const count = integer(values.count, 'count');
  const started = Date.now();
  let lastShown = 0;
  const result = await generateDataset({
    scenario: values.scenario,
    ...(values.phase !== undefined ? { phase: values.phase } : {}),
    count,
    seed: integer(values.seed, 'seed', 1),
    out: values.out,
    ...(values.width !== undefined ? { width: integer(values.width, 'width') } : {}),
    ...(values.height !== undefined ? { height: integer(values.height, 'height') } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.threads !== undefined ? { threads: integer(values.threads, 'threads') } : {}),
    features: !values['no-features'],
    onProgress(done, total) {
      const now = Date.now();
      if (done === total || now - lastShown >= 1000) {
        lastShown = now;
        process.stderr.write(`  ${done}/${total} frames (${((now - started) / 1000).toFixed(1)} s)\n`);
      }
    },
  });
  const m = result.manifest;
  console.log(
    `wrote ${m.id} to ${result.dir}: ${m.counts.total} items (train ${m.counts.train}, validation ${m.counts.validation}, holdout ${m.counts.holdout}), labels ${m.label.min}–${m.label.max} mm, mean ${m.label.mean.toFixed(1)}`,
  );
}

main().catch((err: Error) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
