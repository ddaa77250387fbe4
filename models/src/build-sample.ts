/**
 * @module build-sample
 *
 * Regenerates the committed sample models (`models/sample/*.onnx`). Run it after an intentional
 * change to the reference model, then commit the new files together with the code change; the
 * test suite fails if the two drift apart.
 *
 *   npx tsx models/src/build-sample.ts
 *   npm run build-sample -w @edgeloop/models
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildReferenceModel, SAMPLE_MODEL_OPTIONS, SAMPLE_MODELS, type SampleVersion } from './index.js';

export interface BuiltSample {
  readonly version: SampleVersion;
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** Build and write every sample model, returning what was written. */
export async function buildSamples(log: (line: string) => void = () => {}): Promise<BuiltSample[]> {
  const built: BuiltSample[] = [];
  for (const version of Object.keys(SAMPLE_MODELS) as SampleVersion[]) {
    const path = SAMPLE_MODELS[version];
    const options = SAMPLE_MODEL_OPTIONS[version];
    log(`building ${version} ${JSON.stringify(options)} -> ${relative(process.cwd(), path) || basename(path)}`);
    const bytes = buildReferenceModel(options);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    log(`  wrote ${bytes.byteLength} bytes, sha256 ${sha256}`);
    built.push({ version, path, bytes: bytes.byteLength, sha256 });
  }
  return built;
}

// Only act when executed directly, so importing buildSamples (e.g. from tooling) has no side effects.
// (import.meta.filename would be neater but needs Node 20.11; engines allows 20.9.)
const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  buildSamples((line) => console.log(line)).then(
    (built) => console.log(`done: ${built.length} sample model(s)`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
