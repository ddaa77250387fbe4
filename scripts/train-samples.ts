/**
 * @module train-samples
 * Trained reference models from simulator data, rebuilt byte for byte from this repository:
 *
 *   v1: 2,000 phase-1 frames (beige floor, 0–250 mm), the built-in trainer's defaults, seed 1
 *   v2: 3,000 frames of the label-shift phase (0–350 mm), the same params, seed 2
 *
 *   npx tsx scripts/train-samples.ts <out-dir>
 *
 * Writes <out-dir>/<version>/ with the trainer's files (model.onnx, metrics.json, baseline.json,
 * meta.json, train.log) and prints each model's sha256. The frames are rendered with a fixed
 * seed and createdAt, and the trainer is deterministic, so two builds give identical model bytes.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { generateDataset } from '@edgeloop/simulator';
import { REFERENCE_TRAINER_DESCRIPTION, trainReference, type ReferenceParams } from '@edgeloop/models/trainer';

interface Recipe {
  readonly scenario: string;
  readonly phase: string;
  readonly count: number;
  readonly dataSeed: number;
  readonly seed: number;
}

export const TRAINED_SAMPLES: Readonly<Record<'v1' | 'v2', Recipe>> = {
  v1: { scenario: 'baseline', phase: 'baseline', count: 2000, dataSeed: 1, seed: 1 },
  v2: { scenario: 'label-shift', phase: 'label-shift', count: 3000, dataSeed: 2, seed: 2 },
};

function defaults(seed: number): ReferenceParams {
  const params: Record<string, unknown> = { seed };
  for (const [name, spec] of Object.entries(REFERENCE_TRAINER_DESCRIPTION.params)) params[name] = spec.default;
  return params as unknown as ReferenceParams;
}

async function main(outDir: string | undefined): Promise<void> {
  if (!outDir) throw new Error('usage: tsx scripts/train-samples.ts <out-dir>');
  for (const [version, recipe] of Object.entries(TRAINED_SAMPLES)) {
    const data = path.resolve(outDir, `${version}-dataset`);
    const out = path.resolve(outDir, version);
    await rm(data, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
    console.log(`${version}: rendering ${recipe.count} frames of ${recipe.scenario}/${recipe.phase}`);
    await generateDataset({
      scenario: recipe.scenario,
      phase: recipe.phase,
      count: recipe.count,
      seed: recipe.dataSeed,
      out: data,
      createdAt: 0,
    });
    await mkdir(out, { recursive: true });
    const result = await trainReference({
      datasetDir: data,
      outDir: out,
      params: defaults(recipe.seed),
      log: (line) => console.log(`  ${line}`),
    });
    const bytes = await readFile(path.join(out, 'model.onnx'));
    console.log(
      `${version}: ${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex')}, holdout MAE ${result.metrics.holdout?.mae} mm`,
    );
  }
}

main(process.argv[2]).catch((err: unknown) => {
  console.error((err as Error).message);
  process.exitCode = 1;
});
