/**
 * @module evaluate/run-evaluator
 * The caller's side of the evaluator: writes the request file, runs cli.ts as a child process in
 * its own process group (so a cancel or timeout ends it: SIGTERM, then SIGKILL), reads its JSON
 * lines and answers the per-model results. ONNX Runtime is loaded only in the child.
 */
import { secretFreeEnv, signalGroup } from '@edgeloop/protocol/node';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeZodError } from '@edgeloop/protocol';
import {
  EVALUATOR_EXIT,
  evaluationRequestSchema,
  type EvaluationRequestInput,
  type EvaluatorLine,
  type ModelEvaluation,
} from './request.js';

/** Absolute path of the evaluator's command-line entry. */
export const EVALUATOR_CLI: string = fileURLToPath(new URL('./cli.ts', import.meta.url));

// Resolved here, not by the child from its working directory, so the command works from any cwd.
function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

/** `command` followed by `<request.json>` runs the evaluator. */
export const EVALUATOR_COMMAND: readonly string[] = [process.execPath, '--import', tsxLoader(), EVALUATOR_CLI];

/** The evaluation did not finish: refused (a model or image is wrong), crashed, cancelled or timed out. */
export class EvaluatorError extends Error {
  override readonly name = 'EvaluatorError';
  constructor(
    message: string,
    readonly reason: 'refused' | 'crashed' | 'cancelled' | 'timed_out',
  ) {
    super(message);
  }
}

export interface RunEvaluatorOptions {
  /** An existing folder: request.json is written here, and relative paths in the request are relative to it. */
  workDir: string;
  signal?: AbortSignal;
  /** Default 10 minutes. */
  timeoutMs?: number;
  onProgress?: (done: number, total: number) => void;
  /** Between SIGTERM and SIGKILL; default 2 s. */
  killGraceMs?: number;
}

export const DEFAULT_EVALUATION_TIMEOUT_MS = 10 * 60_000;
const STDERR_KEPT = 16 * 1024;

/** Evaluates every model of the request on its items; results keyed by model key. */
export async function runEvaluator(
  request: EvaluationRequestInput,
  opts: RunEvaluatorOptions,
): Promise<Record<string, ModelEvaluation>> {
  // Checked here too, so a caller's mistake is a clear error rather than a child's exit code.
  const parsed = evaluationRequestSchema.safeParse(request);
  if (!parsed.success)
    throw new EvaluatorError(`invalid evaluation request: ${describeZodError(parsed.error)}`, 'refused');
  if (opts.signal?.aborted) throw new EvaluatorError('the evaluation was cancelled before it started', 'cancelled');
  const file = path.join(opts.workDir, 'request.json');
  await writeFile(file, JSON.stringify(parsed.data));

  const [cmd, ...args] = EVALUATOR_COMMAND;
  const child = spawn(cmd!, [...args, file], {
    cwd: opts.workDir,
    // The IPC channel closes when this process dies (even by kill -9): the evaluator then stops.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
    env: secretFreeEnv(process.env),
  });
  let ending: 'timed_out' | 'cancelled' | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (why: 'timed_out' | 'cancelled') => {
    if (ending || child.exitCode !== null || child.pid === undefined) return;
    ending = why;
    signalGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), opts.killGraceMs ?? 2000);
  };
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EVALUATION_TIMEOUT_MS;
  const timer = setTimeout(() => stop('timed_out'), timeoutMs);
  const onAbort = () => stop('cancelled');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // Aborted while the request was being written: the listener came too late to hear it.
  if (opts.signal?.aborted) onAbort();

  const results: Record<string, ModelEvaluation> = {};
  let refusal: string | undefined;
  let stderr = '';
  let partial = '';
  const onLine = (text: string) => {
    if (text.trim() === '') return;
    let line: EvaluatorLine;
    try {
      line = JSON.parse(text) as EvaluatorLine;
    } catch {
      stderr = (stderr + text + '\n').slice(-STDERR_KEPT);
      return;
    }
    if (line.kind === 'progress') opts.onProgress?.(line.done, line.total);
    else if (line.kind === 'error') refusal = line.message;
    else if (line.kind === 'model') {
      const { kind: _kind, ...evaluation } = line;
      results[line.key] = evaluation;
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(onLine);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEPT);
  });
  const exit = await new Promise<{ code: number | null; spawnError?: Error }>((resolve) => {
    child.on('error', (e) => resolve({ code: null, spawnError: e }));
    child.on('close', (code) => resolve({ code }));
  });
  onLine(partial);
  clearTimeout(timer);
  clearTimeout(killTimer);
  opts.signal?.removeEventListener('abort', onAbort);
  if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');

  if (exit.spawnError)
    throw new EvaluatorError(`the evaluator could not be started: ${exit.spawnError.message}`, 'crashed');
  if (ending === 'timed_out')
    throw new EvaluatorError(
      `the evaluation was stopped after ${timeoutMs} ms; evaluate fewer items or allow more time`,
      'timed_out',
    );
  if (ending === 'cancelled') throw new EvaluatorError('the evaluation was cancelled', 'cancelled');
  if (exit.code === EVALUATOR_EXIT.refused)
    throw new EvaluatorError(refusal ?? (lastLines(stderr) || 'the evaluator refused the request'), 'refused');
  if (exit.code !== EVALUATOR_EXIT.ok)
    throw new EvaluatorError(
      `the evaluator exited with ${exit.code ?? 'a signal'}: ${lastLines(stderr) || 'no output'}`,
      'crashed',
    );
  const missing = Object.keys(parsed.data.models).filter((k) => !(k in results));
  if (missing.length > 0)
    throw new EvaluatorError(`the evaluator exited 0 without results for ${missing.join(', ')}`, 'crashed');
  return results;
}

function lastLines(text: string, n = 8): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
