/**
 * @module train-samples
 * The committed sample models, trained from simulator data and rebuilt byte for byte from this
 * repository (recipes in models/src/sample-recipes.ts):
 *
 *   v1: 2,000 phase-1 frames (beige floor, 0–250 mm), the built-in trainer's defaults, seed 1
 *   v2: 3,000 frames of the label-shift phase (0–350 mm), the same params, seed 2
 *
 *   npx tsx scripts/train-samples.ts <out-dir>             # build and print the sums
 *   npx tsx scripts/train-samples.ts <out-dir> --install   # also replace models/sample/
 *
 * Writes <out-dir>/<version>/ with the trainer's files (model.onnx, metrics.json, baseline.json,
 * meta.json, train.log) and <out-dir>/SHA256SUMS. The frames are rendered with a fixed seed and
 * createdAt, and the trainer is deterministic, so two builds give identical model bytes.
 * --install copies the models over models/sample/edgeloop-distance-<version>.onnx, writes each
 * version's registration metadata (edgeloop-distance-<version>.meta.json: the shared pre- and
 * postprocessing, the trainer's metrics flattened, its baseline as the training summary drift is
 * measured against), models/sample/SHA256SUMS and the small pipeline check's sum that the test
 * suite rebuilds.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDataset } from '@edgeloop/simulator';
import { flatMetrics, trainerMetricsSchema } from '@edgeloop/protocol';
import {
  SAMPLE_CHECK_RECIPE,
  SAMPLE_CHECK_SUM_PATH,
  SAMPLE_METADATA_PATH,
  SAMPLE_MODELS,
  SAMPLE_RECIPES,
  SAMPLE_VERSION_METADATA,
  SAMPLE_SUMS_PATH,
  type SampleRecipe,
  type SampleVersion,
} from '@edgeloop/models';
import { REFERENCE_TRAINER_DESCRIPTION, trainReference, type ReferenceParams } from '@edgeloop/models/trainer';

export interface TrainedSample {
  readonly modelPath: string;
  /** The trainer's output folder (metrics.json, baseline.json beside model.onnx). */
  readonly outDir: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly holdoutMae: number | undefined;
}

function paramsOf(recipe: SampleRecipe): ReferenceParams {
  // Key order matters: the params are recorded as JSON in the model's metadata, so in its bytes.
  const params: Record<string, unknown> = { seed: recipe.seed };
  for (const [name, spec] of Object.entries(REFERENCE_TRAINER_DESCRIPTION.params)) params[name] = spec.default;
  Object.assign(params, recipe.params);
  return params as unknown as ReferenceParams;
}

/** Renders the recipe's frames into `<workDir>/dataset` and trains into `<workDir>/model`. */
export async function buildTrainedSample(
  recipe: SampleRecipe,
  workDir: string,
  log: (line: string) => void = () => {},
): Promise<TrainedSample> {
  const data = path.resolve(workDir, 'dataset');
  const out = path.resolve(workDir, 'model');
  await rm(data, { recursive: true, force: true });
  await rm(out, { recursive: true, force: true });
  log(`rendering ${recipe.count} frames of ${recipe.scenario}/${recipe.phase}`);
  await generateDataset({
    scenario: recipe.scenario,
    phase: recipe.phase,
    count: recipe.count,
    seed: recipe.dataSeed,
    out: data,
    createdAt: 0,
  });
  await mkdir(out, { recursive: true });
  const result = await trainReference({ datasetDir: data, outDir: out, params: paramsOf(recipe), log });
  const modelPath = path.join(out, 'model.onnx');
  const bytes = await readFile(modelPath);
  return {
    modelPath,
    outDir: out,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    holdoutMae: result.metrics.holdout?.mae,
  };
}

async function main(args: readonly string[]): Promise<void> {
  const outDir = args.find((a) => !a.startsWith('--'));
  const install = args.includes('--install');
  if (!outDir) throw new Error('usage: tsx scripts/train-samples.ts <out-dir> [--install]');
  const built: Array<[SampleVersion, TrainedSample]> = [];
  for (const version of Object.keys(SAMPLE_RECIPES) as SampleVersion[]) {
    const sample = await buildTrainedSample(SAMPLE_RECIPES[version], path.resolve(outDir, version), (line) =>
      console.log(`${version}: ${line}`),
    );
    console.log(`${version}: ${sample.bytes} bytes, sha256 ${sample.sha256}, holdout MAE ${sample.holdoutMae} mm`);
    built.push([version, sample]);
  }
  const check = await buildTrainedSample(SAMPLE_CHECK_RECIPE, path.resolve(outDir, 'check'));
  console.log(`check: sha256 ${check.sha256}`);
  const sums = built.map(([version, s]) => `${s.sha256}  ${path.basename(SAMPLE_MODELS[version])}\n`).join('');
  await writeFile(path.resolve(outDir, 'SHA256SUMS'), sums);
  if (install) {
    const shared = JSON.parse(await readFile(SAMPLE_METADATA_PATH, 'utf8')) as object;
    for (const [version, s] of built) {
      await copyFile(s.modelPath, SAMPLE_MODELS[version]);
      const metrics = trainerMetricsSchema.parse(
        JSON.parse(await readFile(path.join(s.outDir, 'metrics.json'), 'utf8')),
      );
      const baseline = JSON.parse(await readFile(path.join(s.outDir, 'baseline.json'), 'utf8')) as unknown;
      const metadata = { ...shared, metrics: flatMetrics(metrics), trainingSummary: baseline };
      await writeFile(SAMPLE_VERSION_METADATA[version], `${JSON.stringify(metadata)}\n`);
    }
    await writeFile(SAMPLE_SUMS_PATH, sums);
    await writeFile(SAMPLE_CHECK_SUM_PATH, `${check.sha256}\n`);
    console.log(`installed into ${path.dirname(SAMPLE_SUMS_PATH)}; commit the files with the change that caused them`);
  }
}

// Only act when run directly: the test suite imports buildTrainedSample.
const invokedDirectly =
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error((err as Error).message);
    process.exitCode = 1;
  });
}
