/**
 * @module training/trainer-runner
 * Runs one trainer command as the trainer contract (protocol's trainer-contract.ts) describes:
 * `<trainer…> <dataset-dir> <params.json> <out-dir>` as a child process in its own process group,
 * so a timeout or a cancel ends the trainer and everything it started (SIGTERM, then SIGKILL
 * after a grace period). stdout and stderr go to one bounded log; stdout lines that are progress
 * JSON are reported as they come. When the process exits 0 its outputs are checked — model.onnx
 * by the registry's own rule, metrics.json and baseline.json by their schemas — so a run only
 * succeeds with outputs that can be registered.
 */
import { secretFreeEnv, signalGroup } from '@edgeloop/protocol/node';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  describeZodError,
  parseProgressLine,
  TRAINER_OUTPUTS,
  trainerDescriptionSchema,
  trainerMetricsSchema,
  trainingSummarySchema,
  type TrainerDescription,
  type TrainerMetrics,
  type TrainerParams,
  type TrainerProgress,
  type TrainingSummary,
} from '@edgeloop/protocol';
import { modelMetadataSchema, type ModelMetadata } from '@edgeloop/protocol/rest';
import { inspectModelFile, RegistryError } from '../registry/model-registry.js';
import { BoundedLog } from './bounded-log.js';

/** A configured trainer: its name and the command (executable first) the contract's arguments follow. */

/** Runs each trainer and ends its process group when the server is gone. */
const TRAINER_GUARD = fileURLToPath(new URL('./trainer-guard.mjs', import.meta.url));
export interface TrainerCommand {
  name: string;
  command: readonly string[];
}

export type RunStatus = 'succeeded' | 'failed' | 'cancelled' | 'timed_out';

export interface RunOptions {
  datasetDir: string;
  params: TrainerParams;
  /** An empty folder the trainer writes into (params.json goes beside it, not into it). */
  outDir: string;
  /** Where params.json is written. */
  paramsFile: string;
  timeoutMs: number;
  /** Aborting cancels the run. */
  signal?: AbortSignal;
  onProgress?: (p: TrainerProgress) => void;
  /** Bytes of log kept (head and tail); default 256 KiB. */
  maxLogBytes?: number;
  /** Between SIGTERM and SIGKILL; default 2 s. */
  killGraceMs?: number;
}

export interface RunOutcome {
  status: RunStatus;
  exitCode: number | null;
  /** Why it did not succeed, with what to do; undefined on success. */
  error?: string;
  log: string;
  durationMs: number;
  metrics?: TrainerMetrics;
  baseline?: TrainingSummary;
  /** The model file's bytes, checked by the registry's rule. */
  model?: Buffer;
  /** The trainer's registry metadata (meta.json), when it wrote one. */
  meta?: ModelMetadata;
}

export const DEFAULT_MAX_LOG_BYTES = 256 * 1024;
const TAIL_LINES = 12;
const MAX_LINE = 64 * 1024;
const MAX_DESCRIBE_BYTES = 1024 * 1024;

/** What `<trainer> --describe` prints; throws a message naming the trainer and what was wrong. */
export async function describeTrainer(trainer: TrainerCommand, timeoutMs = 30_000): Promise<TrainerDescription> {
  const [cmd, ...args] = trainer.command;
  const child = spawn(cmd!, [...args, '--describe'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: trainerEnv(process.env),
  });
  const out: Buffer[] = [];
  const err = new BoundedLog(16 * 1024);
  let outBytes = 0;
  child.stdout!.on('data', (b: Buffer) => {
    outBytes += b.length;
    if (outBytes <= MAX_DESCRIBE_BYTES) out.push(b);
    else child.kill('SIGKILL');
  });
  child.stderr!.on('data', (b: Buffer) => err.append(b));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  })
    .catch((e: Error) => {
      throw new Error(
        `trainer "${trainer.name}" could not be started (${e.message}); check its command in the server settings`,
        { cause: e },
      );
    })
    .finally(() => clearTimeout(timer));
  if (code !== 0)
    throw new Error(
      `trainer "${trainer.name}" --describe exited with ${code ?? 'a signal'}: ${lastLines(err.text(), 3) || 'no output'}`,
    );
  let parsed;
  try {
    parsed = trainerDescriptionSchema.safeParse(JSON.parse(Buffer.concat(out).toString('utf8').trim()));
  } catch (e) {
    throw new Error(`trainer "${trainer.name}" --describe did not print JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!parsed.success)
    throw new Error(
      `trainer "${trainer.name}" --describe printed an invalid description: ${describeZodError(parsed.error)}`,
    );
  return parsed.data;
}

/** Runs the trainer once; never throws for anything the trainer does (that is the outcome). */
export async function runTrainer(trainer: TrainerCommand, opts: RunOptions): Promise<RunOutcome> {
  const started = Date.now();
  const log = new BoundedLog(opts.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES);
  await writeFile(opts.paramsFile, JSON.stringify(opts.params, null, 2) + '\n');
  const [cmd, ...args] = trainer.command;
  if (opts.signal?.aborted)
    return { status: 'cancelled', exitCode: null, error: 'cancelled before it started', log: '', durationMs: 0 };
  // Through the guard (trainer-guard.mjs), leader of its own process group: the kill reaches
  // whatever the trainer started (data loaders, python workers), and the group ends with the
  // server even when the server is killed outright.
  const child = spawn(process.execPath, [TRAINER_GUARD, cmd!, ...args, opts.datasetDir, opts.paramsFile, opts.outDir], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
    env: trainerEnv(process.env),
  });
  let guardSpawnError: string | undefined;
  child.on('message', (m: { spawnError?: unknown }) => {
    if (typeof m?.spawnError === 'string') guardSpawnError = m.spawnError;
  });
  let ending: 'timed_out' | 'cancelled' | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (why: 'timed_out' | 'cancelled') => {
    if (ending || child.exitCode !== null || child.pid === undefined) return;
    ending = why;
    signalGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), opts.killGraceMs ?? 2000);
  };
  const timer = setTimeout(() => stop('timed_out'), opts.timeoutMs);
  const onAbort = () => stop('cancelled');
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  let partial = '';
  child.stdout!.on('data', (b: Buffer) => {
    const lines = (partial + b.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) stdoutLine(line);
    // Output without line ends (a progress bar redrawn with \r) is log text, not a line to wait for.
    if (partial.length > MAX_LINE) {
      log.append(partial);
      partial = '';
    }
  });
  const stdoutLine = (line: string) => {
    const p = parseProgressLine(line.trim());
    if (p) opts.onProgress?.(p);
    else log.append(line + '\n');
  };
  child.stderr!.on('data', (b: Buffer) => log.append(b));

  const exit = await new Promise<{ code: number | null; spawnError?: Error }>((resolve) => {
    child.on('error', (e) => resolve({ code: null, spawnError: e }));
    child.on('close', (code) =>
      resolve(guardSpawnError === undefined ? { code } : { code: null, spawnError: new Error(guardSpawnError) }),
    );
  });
  if (partial) stdoutLine(partial);
  clearTimeout(timer);
  clearTimeout(killTimer);
  opts.signal?.removeEventListener('abort', onAbort);
  // A trainer whose own children still hold the group gets no second chance to linger.
  if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  const base = { exitCode: exit.code, log: log.text(), durationMs: Date.now() - started };
  if (exit.spawnError)
    return {
      ...base,
      status: 'failed',
      error: `trainer "${trainer.name}" could not be started (${exit.spawnError.message}); check its command in the server settings`,
    };
  if (ending === 'timed_out')
    return {
      ...base,
      status: 'timed_out',
      error: `stopped after the ${opts.timeoutMs} ms timeout; give the job a larger timeoutMs or fewer epochs`,
    };
  if (ending === 'cancelled') return { ...base, status: 'cancelled', error: 'cancelled' };
  if (exit.code !== 0) {
    const tail = lastLines(base.log, TAIL_LINES);
    return {
      ...base,
      status: 'failed',
      error: `trainer exited with code ${exit.code ?? 'null (killed by a signal)'}${tail ? `; last lines of its log:\n${tail}` : ''}`,
    };
  }
  try {
    return { ...base, status: 'succeeded', ...(await readOutputs(opts.outDir)) };
  } catch (err) {
    return { ...base, status: 'failed', error: (err as Error).message };
  }
}

/** The trainer's outputs, each checked; throws naming the file and the problem. */
export async function readOutputs(
  outDir: string,
): Promise<Required<Pick<RunOutcome, 'metrics' | 'baseline' | 'model'>> & Pick<RunOutcome, 'meta'>> {
  const read = async (file: string) => {
    try {
      return await readFile(join(outDir, file));
    } catch (err) {
      throw new Error(
        `the trainer exited 0 but wrote no ${file}; a trainer must write ${Object.values(TRAINER_OUTPUTS).slice(0, 3).join(', ')}`,
        { cause: err },
      );
    }
  };
  const json = async (file: string) => {
    const text = (await read(file)).toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new Error(`${file} is not JSON: ${(err as Error).message}`, { cause: err });
    }
  };
  const model = await read(TRAINER_OUTPUTS.model);
  try {
    inspectModelFile(model);
  } catch (err) {
    if (err instanceof RegistryError)
      throw new Error(`the registry refuses ${TRAINER_OUTPUTS.model}: ${err.message}`, { cause: err });
    throw err;
  }
  const metrics = trainerMetricsSchema.safeParse(await json(TRAINER_OUTPUTS.metrics));
  if (!metrics.success) throw new Error(`${TRAINER_OUTPUTS.metrics} is invalid: ${describeZodError(metrics.error)}`);
  const baseline = trainingSummarySchema.safeParse(await json(TRAINER_OUTPUTS.baseline));
  if (!baseline.success) throw new Error(`${TRAINER_OUTPUTS.baseline} is invalid: ${describeZodError(baseline.error)}`);
  let meta: ModelMetadata | undefined;
  const metaText = await readFile(join(outDir, TRAINER_OUTPUTS.meta), 'utf8').catch(() => undefined);
  if (metaText !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(metaText);
    } catch (err) {
      throw new Error(`${TRAINER_OUTPUTS.meta} is not JSON: ${(err as Error).message}`, { cause: err });
    }
    const parsed = modelMetadataSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${TRAINER_OUTPUTS.meta} is invalid: ${describeZodError(parsed.error)}`);
    meta = parsed.data;
  }
  return { model, metrics: metrics.data, baseline: baseline.data, ...(meta ? { meta } : {}) };
}

/** What a trainer gets of the server's environment: all but its secrets and settings. */
export const trainerEnv = secretFreeEnv;

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
