/**
 * @module train/cli
 * The built-in reference trainer as a command, following protocol's trainer contract:
 *
 *   node --import tsx models/src/train/cli.ts <dataset-dir> <params.json> <out-dir>
 *   node --import tsx models/src/train/cli.ts --describe
 *
 * Progress goes to stdout as JSON lines, everything else to stdout as plain log lines and to
 * out-dir/train.log. Exit 0: done; 2: the input is wrong (the message says how); 1: it crashed.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { TRAINER_OUTPUTS, resolveParams, type TrainerProgress } from '@edgeloop/protocol';
import { DatasetError } from './dataset-reader.js';
import { REFERENCE_TRAINER_DESCRIPTION, type ReferenceParams } from './describe.js';

const USAGE = 'usage: cli.ts <dataset-dir> <params.json> <out-dir> | --describe';

class UsageError extends Error {}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 1 && argv[0] === '--describe') {
    process.stdout.write(`${JSON.stringify(REFERENCE_TRAINER_DESCRIPTION)}\n`);
    return 0;
  }
  if (argv.length !== 3) throw new UsageError(`expected 3 arguments, got ${argv.length}; ${USAGE}`);
  const [datasetDir, paramsFile, outDir] = argv as [string, string, string];
  const params = await readParams(paramsFile);
  await prepareOutDir(outDir);

  const logFile = createWriteStream(path.join(outDir, TRAINER_OUTPUTS.log), { flags: 'a' });
  const log = (line: string) => {
    logFile.write(`${line}\n`);
    process.stdout.write(`${line}\n`);
  };
  const progress = (p: TrainerProgress) => process.stdout.write(`${JSON.stringify(p)}\n`);
  try {
    // Loaded only to train: --describe and argument errors answer without starting tfjs.
    const { trainReference } = await import('./train.js');
    await trainReference({ datasetDir, outDir, params, log, progress });
    return 0;
  } catch (err) {
    log(`error: ${(err as Error).message}`);
    throw err;
  } finally {
    await closeStream(logFile);
  }
}

async function readParams(file: string): Promise<ReferenceParams> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read params file ${file}: ${(err as Error).message}; it must hold one JSON object`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UsageError(`params file ${file} must hold one JSON object, e.g. {"seed": 1, "epochs": 60}`);
  }
  if (!('seed' in json)) throw new UsageError(`params file ${file} must name an integer "seed"`);
  const resolved = resolveParams(REFERENCE_TRAINER_DESCRIPTION, json as Record<string, unknown>);
  if (!resolved.ok) {
    throw new UsageError(
      `params file ${file}:\n  ${resolved.errors.join('\n  ')}\n(run with --describe for the parameters)`,
    );
  }
  const p = resolved.params;
  if (![2, 4, 8, 16].includes(p.pool as number)) {
    throw new UsageError(`params file ${file}: pool must be 2, 4, 8 or 16 (it must divide 48 and 64), got ${p.pool}`);
  }
  return p as unknown as ReferenceParams;
}

async function prepareOutDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const present = await readdir(dir);
  if (present.length > 0) {
    throw new UsageError(
      `out-dir ${dir} is not empty (${present.slice(0, 3).join(', ')}…); give an empty or new folder`,
    );
  }
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(resolve));
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const known = err instanceof UsageError || err instanceof DatasetError;
    process.stderr.write(
      `${known ? '' : 'trainer crashed: '}${known ? (err as Error).message : ((err as Error).stack ?? String(err))}\n`,
    );
    process.exit(known ? 2 : 1);
  },
);
