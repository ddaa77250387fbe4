/**
 * @module train/cli.test
 * The trainer as the server runs it: a child process following protocol's trainer contract.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DATASET_FILES,
  TRAINER_OUTPUTS,
  parseProgressLine,
  resolveParams,
  trainerDescriptionSchema,
  trainerMetricsSchema,
} from '@edgeloop/protocol';
import { BUILTIN_TRAINER } from './builtin.js';
import { writeSyntheticDataset } from './test-dataset.js';

function runTrainer(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, ...pre] = BUILTIN_TRAINER.command;
  return new Promise((resolve, reject) => {
    // From another directory on purpose: the command must not depend on the caller's cwd.
    const child = spawn(cmd!, [...pre, ...args], { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let root: string;
let datasetDir: string;

describe('trainer command', () => {
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'edgeloop-train-cli-'));
    datasetDir = path.join(root, 'ds');
    await writeSyntheticDataset(datasetDir, { count: 80, seed: 5 });
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('--describe prints a trainer description that resolves defaults and names unknown params', async () => {
    const { code, stdout } = await runTrainer(['--describe']);
    assert.equal(code, 0);
    const description = trainerDescriptionSchema.parse(JSON.parse(stdout));
    const ok = resolveParams(description, { seed: 1 });
    assert.ok(ok.ok && ok.params.epochs === description.params.epochs!.default);
    const bad = resolveParams(description, { seed: 1, epoch: 3 });
    assert.ok(!bad.ok);
    assert.match(bad.errors[0]!, /unknown parameter "epoch".*epochs/);
  });

  it('trains: progress lines on stdout, the contract files in out-dir, exit 0', async () => {
    const params = path.join(root, 'params.json');
    await writeFile(params, JSON.stringify({ seed: 3, epochs: 3, hidden: 16, hidden2: 0 }));
    const out = path.join(root, 'out');
    const { code, stdout, stderr } = await runTrainer([datasetDir, params, out]);
    assert.equal(code, 0, stderr);
    const progress = stdout.split('\n').map(parseProgressLine).filter(Boolean);
    assert.deepEqual(
      progress.filter((p) => p!.type === 'epoch').map((p) => p!.type === 'epoch' && p!.epoch),
      [1, 2, 3],
    );
    assert.deepEqual((await readdir(out)).sort(), Object.values(TRAINER_OUTPUTS).sort());
    trainerMetricsSchema.parse(JSON.parse(await readFile(path.join(out, TRAINER_OUTPUTS.metrics), 'utf8')));
    assert.match(await readFile(path.join(out, TRAINER_OUTPUTS.log), 'utf8'), /holdout MAE/);
  });

  it('an unknown or out-of-range parameter exits 2 naming it, before touching out-dir', async () => {
    const params = path.join(root, 'bad-params.json');
    await writeFile(params, JSON.stringify({ seed: 3, epoch: 3, hidden: 2 }));
    const out = path.join(root, 'never');
    const { code, stderr } = await runTrainer([datasetDir, params, out]);
    assert.equal(code, 2);
    assert.match(stderr, /unknown parameter "epoch"/);
    assert.match(stderr, /hidden must be ≥ 4, got 2/);
    await assert.rejects(readdir(out), /ENOENT/);
  });

  it('a dataset with a missing image exits 2 naming the file, and says so in train.log', async () => {
    const lines = (await readFile(path.join(datasetDir, DATASET_FILES.labels), 'utf8')).split('\n');
    const { file } = JSON.parse(lines[1]!) as { file: string };
    await unlink(path.join(datasetDir, file));
    const params = path.join(root, 'params2.json');
    await writeFile(params, JSON.stringify({ seed: 3, epochs: 1 }));
    const out = path.join(root, 'out-missing');
    const { code, stderr } = await runTrainer([datasetDir, params, out]);
    assert.equal(code, 2);
    assert.match(stderr, new RegExp(`line 2: image ${file} is missing`));
    assert.doesNotMatch(stderr, /crashed|at .*\.ts:/);
    assert.match(await readFile(path.join(out, TRAINER_OUTPUTS.log), 'utf8'), new RegExp(file));
  });

  it('a wrong argument count exits 2 with the usage', async () => {
    const { code, stderr } = await runTrainer(['only-one']);
    assert.equal(code, 2);
    assert.match(stderr, /usage: .*--describe/);
  });
});
