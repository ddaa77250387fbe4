/**
 * `edgeloop train`, `runs list|show|register|cancel` and `lineage` against a real fleet server
 * with the fixture trainer: progress per run and epoch, the runs table with the best run, a
 * registered version, refusals worded for the operator, and the chain from a telemetry record
 * back to the dataset's devices.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { trainingServer, TOKEN } from '../../training/training-server-fixture.js';
import { main } from '../edgeloop.js';

test(
  'train shows progress per run and epoch, registers the best run, and lineage walks back to devices',
  { timeout: 60_000 },
  async (t) => {
    process.env.EDGELOOP_TRAIN_POLL_MS = '50';
    const { server, ds, dir } = await trainingServer(t);
    const cli = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main([...argv, '--server', server.httpUrl, '--token', TOKEN], {
        out: (x) => out.push(x),
        err: (x) => err.push(x),
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const sweepFile = join(dir, 'sweep.json');
    writeFileSync(
      sweepFile,
      JSON.stringify({ seed: 3, base: { epochs: 4, epochMs: 150 }, grid: { learningRate: [0.3, 0.9] } }),
    );
    const meta = await readFile(join(SAMPLE_MODELS.v1, '..', 'edgeloop-distance.meta.json'), 'utf8');
    await server.registry.register({
      name: 'distance',
      bytes: await readFile(SAMPLE_MODELS.v1),
      metadata: JSON.parse(meta),
    });

    const trained = await cli(
      'train',
      '--dataset',
      ds.id,
      '--params',
      sweepFile,
      '--trainer',
      'fixture',
      '--register',
      'distance',
      '--parent',
      '1',
    );
    assert.equal(trained.code, 0, trained.err);
    assert.match(
      trained.out,
      /^training job tj-[0-9a-f]{10}: fixture on ds-[0-9a-f]{24}, best by validation\.mae \(min\)/,
    );
    assert.match(
      trained.out,
      /run 1\/2 running {2}epoch \d\/4 {2}loss [\d.]+ {2}val MAE [\d.]+ {2}\[epochs=4 epochMs=150 learningRate=0\.3 mode=ok seed=3\]/,
    );
    assert.match(trained.out, /run 2\/2 succeeded {2}validation MAE [\d.]+/);
    assert.match(trained.out, /RUN\s+STATUS\s+PARAMS\s+SEED\s+VAL MAE\s+HOLDOUT MAE\s+SECONDS/);
    assert.match(trained.out, /best run: tj-[0-9a-f]{10}-\d by validation\.mae/);
    assert.match(trained.out, /registered distance v2 \(signed\), lineage: dataset ds-[0-9a-f]{24}, run tj-/);
    const best = /best run: (\S+)/.exec(trained.out)![1]!;

    const listed = await cli('runs', 'list', '--status', 'succeeded');
    assert.equal(listed.code, 0, listed.err);
    assert.equal(listed.out.split('\n').length, 3, 'a header and two runs');
    const shown = await cli('runs', 'show', best);
    assert.match(shown.out, new RegExp(`^${best} {2}succeeded \\(exit 0\\)`));
    assert.match(shown.out, /validation {2}MAE [\d.]+ {2}RMSE [\d.]+ {2}\(\d+ items\)/);
    assert.match(shown.out, /log \(last 20 lines; --log for all\):\nfixture trainer/);

    const [rec] = await server.store.telemetry
      .insertBatch('car-7', 's1', [
        {
          seq: 1,
          ts: 1_800_000_000_000,
          model: 'distance',
          version: 2,
          output: [120],
          prediction: 120,
          latencyMs: 3,
          features: {},
          reference: 118,
        },
      ])
      .then(() => server.store.telemetry.query({ device: 'car-7' }));
    const walked = await cli('lineage', String(rec!.id));
    assert.equal(walked.code, 0, walked.err);
    assert.match(
      walked.out,
      new RegExp(
        `^record ${rec!.id}: device car-7, stream s1 seq 1 at .*, prediction 120, reference 118\\n` +
          ` {2}↳ model distance v2 \\(registered\\), sha256 [0-9a-f]{12}, parent v1, trigger manual\\n` +
          ` {6}↳ training run ${best} \\(job tj-[0-9a-f]{10}\\): fixture, .* seed=3, validation MAE [\\d.]+\\n` +
          ` {8}↳ dataset ${ds.id} "test dataset 0" \\(generated\\): \\d+ items .*\\n` +
          ` {10}↳ device sim-1: \\d+ items, .* – .*\\n {10}↳ device sim-2`,
      ),
    );
    const byVersion = await cli('lineage', 'distance@1');
    assert.match(
      byVersion.out,
      /^model distance v1 \(registered\)[^\n]*\n {2}\(distance v1 names no training run: it was registered without one\)/,
    );

    // Refusals an operator can act on.
    writeFileSync(sweepFile, JSON.stringify({ runs: [{ learningrate: 0.1 }] }));
    const typo = await cli('train', '--dataset', ds.id, '--params', sweepFile, '--trainer', 'fixture');
    assert.equal(typo.code, 1);
    assert.match(
      typo.err,
      /run 1: unknown parameter "learningrate" for trainer fixture \(it takes: learningRate, epochs, epochMs, mode\)/,
    );
    writeFileSync(sweepFile, '{"runs": []}');
    assert.match(
      (await cli('train', '--dataset', ds.id, '--params', sweepFile)).err,
      /the sweep file .* is invalid: runs/,
    );
    assert.equal((await cli('train', '--dataset', ds.id)).code, 2);
    writeFileSync(sweepFile, JSON.stringify({ runs: [{ mode: 'crash' }] }));
    const crashed = await cli('train', '--dataset', ds.id, '--params', sweepFile, '--trainer', 'fixture');
    assert.equal(crashed.code, 1);
    assert.match(crashed.err, /training job tj-\S+ failed: no run succeeded \(run 1: trainer exited with code 3/);
    const failedRun = /(tj-[0-9a-f]{10}-1) +failed/.exec(crashed.out)![1]!;
    const refused = await cli('runs', 'register', failedRun, '--model', 'distance');
    assert.match(refused.err, /is failed; only a succeeded run's model can be registered/);

    writeFileSync(sweepFile, JSON.stringify({ runs: [{ epochs: 100, epochMs: 100 }] }));
    const detached = await cli('train', '--dataset', ds.id, '--params', sweepFile, '--trainer', 'fixture', '--detach');
    const jobId = /training job (tj-[0-9a-f]{10})/.exec(detached.out)![1]!;
    assert.match((await cli('runs', 'cancel', jobId)).out, new RegExp(`training job ${jobId} is cancelled`));
    assert.deepEqual(server.contractViolations, []);
  },
);
