/**
 * @module evaluate/cli
 * The evaluator as a command, so inference on hundreds of images runs in its own process and
 * never blocks a server's event loop:
 *
 *   node --import tsx models/src/evaluate/cli.ts <request.json>
 *
 * The request is request.ts's evaluationRequestSchema; relative paths in it are relative to the
 * request file. stdout carries JSON lines (request.ts's EvaluatorLine): progress per batch, then
 * one `model` line per model. Exit 0: done; 2: the request, a model or an image is wrong (an
 * `error` line and stderr say which and what to do); 1: it crashed.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describeZodError } from '@edgeloop/protocol';
import { EvaluationError, evaluateModels } from './evaluate.js';
import { EVALUATOR_EXIT, evaluationRequestSchema, type EvaluationRequest, type EvaluatorLine } from './request.js';

const USAGE = 'usage: cli.ts <request.json>';

function emit(line: EvaluatorLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function readRequest(file: string): Promise<EvaluationRequest> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new EvaluationError(`cannot read request ${file}: ${(err as Error).message}; it must hold one JSON object`);
  }
  const parsed = evaluationRequestSchema.safeParse(json);
  if (!parsed.success) throw new EvaluationError(`request ${file} is invalid: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.length !== 1) throw new EvaluationError(`expected 1 argument, got ${argv.length}; ${USAGE}`);
  const file = path.resolve(argv[0]!);
  const request = await readRequest(file);
  const results = await evaluateModels(request, {
    baseDir: path.dirname(file),
    onProgress: (done, total) => emit({ kind: 'progress', done, total }),
  });
  for (const r of results) emit({ kind: 'model', ...r });
  return EVALUATOR_EXIT.ok;
}

// Started with an IPC channel by runEvaluator: when the process that asked is gone, so is the work.
process.on('disconnect', () => process.exit(EVALUATOR_EXIT.crashed));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof EvaluationError) {
      emit({ kind: 'error', message: err.message });
      process.stderr.write(`${err.message}\n`);
      process.exit(EVALUATOR_EXIT.refused);
    }
    process.stderr.write(`evaluator crashed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(EVALUATOR_EXIT.crashed);
  },
);
