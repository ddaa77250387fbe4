/**
 * The trainer runner against a real child process (the fixture trainer): success with checked
 * outputs and progress, a crash (exit code and log tail), a hang past the timeout (killed, even
 * when it ignores SIGTERM), an ONNX file the registry refuses, invalid metrics, and a cancel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainerProgress } from '@edgeloop/protocol';
import { describeTrainer, runTrainer, trainerEnv } from './trainer-runner.js';
import { FIXTURE_TRAINER, writeTestDataset } from './training-fixtures.js';
import { BoundedLog } from './bounded-log.js';

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const root = await mkdtemp(join(tmpdir(), 'edgeloop-runner-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const datasetDir = join(root, 'dataset');
  await writeTestDataset(datasetDir);
  let n = 0;
  const run = async (params: Record<string, unknown>, extra: Partial<Parameters<typeof runTrainer>[1]> = {}) => {
    const dir = join(root, `run-${++n}`);
    await mkdir(join(dir, 'out'), { recursive: true });
    const progress: TrainerProgress[] = [];
    const outcome = await runTrainer(FIXTURE_TRAINER, {
      datasetDir,
      params: { seed: 1, learningRate: 0.1, epochs: 3, epochMs: 0, mode: 'ok', ...params } as never,
      outDir: join(dir, 'out'),
      paramsFile: join(dir, 'params.json'),
      timeoutMs: 10_000,
      onProgress: (p) => progress.push(p),
      ...extra,
    });
    return { outcome, progress };
  };
  return { run };
}

test('--describe gives the trainer description', async () => {
  const d = await describeTrainer(FIXTURE_TRAINER);
  assert.equal(d.name, 'fixture');
  assert.deepEqual(Object.keys(d.params).sort(), ['epochMs', 'epochs', 'learningRate', 'mode']);
  await assert.rejects(
    describeTrainer({ name: 'nothing', command: ['/no/such/trainer'] }),
    /trainer "nothing" could not be started .*check its command/,
  );
});

test('a good run succeeds with checked outputs, progress per epoch and a log', async (t) => {
  const { run } = await setup(t);
  const { outcome, progress } = await run({ epochs: 4 });
  assert.equal(outcome.status, 'succeeded', outcome.error);
  assert.equal(outcome.exitCode, 0);
  assert.ok(outcome.model && outcome.model.length > 100);
  assert.ok(outcome.metrics!.validation.count > 0);
  assert.equal(outcome.baseline!.count, outcome.metrics!.train!.count);
  assert.deepEqual(
    progress.filter((p) => p.type === 'epoch').map((p) => p.type === 'epoch' && p.epoch),
    [1, 2, 3, 4],
  );
  assert.match(outcome.log, /fixture trainer: \d+ items/);
  assert.doesNotMatch(outcome.log, /"type":"epoch"/, 'progress lines are not log lines');
});

test('a crash fails with its exit code and the tail of its log', async (t) => {
  const { run } = await setup(t);
  const { outcome } = await run({ mode: 'crash' });
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.exitCode, 3);
  assert.match(outcome.error!, /trainer exited with code 3; last lines of its log:\n[\s\S]*simulated out-of-memory/);
});

test('a hang is stopped at the timeout, SIGKILL when it ignores SIGTERM', async (t) => {
  const { run } = await setup(t);
  const soft = await run({ mode: 'hang' }, { timeoutMs: 1000 });
  assert.equal(soft.outcome.status, 'timed_out');
  assert.match(soft.outcome.error!, /1000 ms timeout; give the job a larger timeoutMs/);
  // Long enough for the trainer to start and install its SIGTERM handler, even on a busy machine.
  const started = Date.now();
  const hard = await run({ mode: 'hang-hard' }, { timeoutMs: 2500, killGraceMs: 300 });
  assert.equal(hard.outcome.status, 'timed_out');
  assert.match(hard.outcome.log, /ignoring SIGTERM/);
  assert.ok(Date.now() - started < 8000, 'SIGKILL follows the grace period');
});

test('an ONNX file the registry refuses fails the run with the registry reason', async (t) => {
  const { run } = await setup(t);
  const { outcome } = await run({ mode: 'junk-onnx' });
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.error!, /the registry refuses model\.onnx: not an ONNX model: .*upload an \.onnx file/);
  const bad = await run({ mode: 'bad-metrics' });
  assert.equal(bad.outcome.status, 'failed');
  assert.match(bad.outcome.error!, /metrics\.json is invalid: validation/);
});

test('a cancel ends the run', async (t) => {
  const { run } = await setup(t);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 300);
  const { outcome, progress } = await run({ epochs: 100, epochMs: 100 }, { signal: controller.signal });
  assert.equal(outcome.status, 'cancelled');
  assert.ok(progress.length < 50);
});

test('the log keeps its head and tail within the bound', () => {
  const log = new BoundedLog(400);
  log.append('start of the run\n');
  for (let i = 0; i < 200; i++) log.append(`line ${i}\n`);
  const text = log.text();
  assert.ok(text.length < 500);
  assert.match(text, /^start of the run/);
  assert.match(text, /characters dropped/);
  assert.match(text, /line 199\n$/);
});

test("a trainer gets the server's environment without its secrets and settings", () => {
  assert.deepEqual(
    trainerEnv({
      PATH: '/usr/bin',
      HOME: '/home/fleet',
      PYTHONPATH: '/opt/lib',
      EDGELOOP_ADMIN_TOKEN: 'a',
      EDGELOOP_DB_URL: 'postgres://u:p@h/db',
      AWS_SECRET_ACCESS_KEY: 'k',
      GITHUB_TOKEN: 't',
      PGPASSWORD: 'p',
    }),
    { PATH: '/usr/bin', HOME: '/home/fleet', PYTHONPATH: '/opt/lib' },
  );
});
