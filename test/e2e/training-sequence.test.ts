/**
 * The training sequence of docs/training.md, end to end, as a user types it: `npm run sim`'s
 * script (its own process: a fleet server and 4 simulated cars, each a real agent, phase 1 of the
 * baseline scenario, every frame kept as a sample), then the `edgeloop` CLI against it: a dataset
 * from what the cars uploaded, the docs' example sweep (4 runs of the built-in trainer) with the
 * best run registered and signed, a deploy to the 4 cars, the new version's live MAE against the
 * simulated sensor, and the lineage walk from one of its telemetry records back to the cars whose
 * samples trained it. Timings are diagnostics, not pass/fail lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { main } from '@edgeloop/fleet-server/cli';
import type { LineageWalk, LiveError, TelemetryRow } from '@edgeloop/protocol/rest';
import { tempDir, waitFor } from '../support/fixtures.js';
import { REPO } from '../support/processes.js';
import { fleet } from '../support/fleet-client.js';

const DEVICES = ['sim-car-1', 'sim-car-2', 'sim-car-3', 'sim-car-4'];
/** Samples to wait for before the dataset: a few are left out for want of a reference. */
const SAMPLES = 320;
/**
 * Live MAE bound for the new version over its first records. Measured: 11–13 mm on a few hundred
 * training samples (p90 of single errors ~25 mm, so 100 records move the mean by a few mm);
 * the trained model's ≤ 7 mm on 2,000 samples is the bench's figure, not this test's.
 */
const LIVE_MAE_MM = 20;

test(
  'docs/training.md: simulate 4 cars, dataset, sweep of 4, register + sign, deploy, live MAE, lineage walk',
  { timeout: 300_000 },
  async (t) => {
    const tmp = tempDir('training-sequence');
    const started = Date.now();
    const mark = (what: string) => t.diagnostic(`${what} at ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // `npm run sim -- --devices 4 --sample-every 1`, on free ports with its state in a temp dir.
    const sim = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO, 'scripts/sim.ts'),
        '--scenario',
        'baseline',
        '--devices',
        '4',
        '--sample-every',
        '1',
        '--http-port',
        '0',
        '--mqtt-port',
        '0',
        '--data',
        tmp.dir,
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    sim.stdout.on('data', (d: Buffer) => (out += d.toString()));
    sim.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => sim.once('exit', (code) => resolve(code)));
    t.after(() => {
      sim.kill('SIGKILL');
      tmp.cleanup();
    });

    const [, httpUrl, token] = await waitFor(
      'the simulator to print its console URL with the token',
      () => /console\s+(http:\/\/\S+?)\/login#token=(\S+)/.exec(out) ?? undefined,
      60_000,
    );
    await waitFor('the cameras to start', () => out.includes('cameras on'), 60_000);
    mark('4 cars serving v1 with their cameras on');
    const api = fleet(httpUrl!, token);

    process.env.EDGELOOP_TRAIN_POLL_MS = '250';
    const cli = async (...argv: string[]) => {
      const lines: string[] = [];
      const errs: string[] = [];
      const code = await main([...argv, '--server', httpUrl!, '--token', token!], {
        out: (x) => lines.push(x),
        err: (x) => errs.push(x),
      });
      const text = lines.join('\n');
      assert.equal(code, 0, `edgeloop ${argv.join(' ')} failed:\n${errs.join('\n')}\n${text}\n--- sim:\n${out}`);
      return text;
    };

    // 1. The cars upload samples with their sensor readings.
    await waitFor(
      `${SAMPLES} samples at the fleet`,
      async () => {
        const res = await fetch(`${httpUrl}/api/v1/samples?limit=10000`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return ((await res.json()) as { samples: unknown[] }).samples.length >= SAMPLES || undefined;
      },
      120_000,
      1000,
    );
    mark(`${SAMPLES} samples uploaded`);

    // 2. A dataset from what they uploaded.
    const created = await cli('datasets', 'create', '--model', 'distance', '--name', 'phase1');
    const [, datasetId, items] =
      /^created dataset (ds-[0-9a-f]{24}): (\d+) items .* from 4 sources/m.exec(created) ?? [];
    assert.ok(datasetId, created);
    assert.ok(Number(items) >= SAMPLES * 0.8, created);
    mark(`dataset ${datasetId} of ${items} items`);

    // 3 and 4. The docs' sweep: 4 runs; the best is registered and signed as v2.
    const trained = await cli(
      'train',
      '--dataset',
      datasetId!,
      '--params',
      join(REPO, 'docs/examples/sweep.json'),
      '--register',
      'distance',
      '--parent',
      '1',
    );
    for (const n of [1, 2, 3, 4]) assert.match(trained, new RegExp(`^run ${n}/4 succeeded {2}validation MAE`, 'm'));
    assert.match(trained, /^run \d\/4 running {2}epoch \d+\/\d+ {2}loss/m, 'progress per epoch');
    const best = /^best run: (tj-[0-9a-f]{10}-\d) by validation\.mae$/m.exec(trained)?.[1];
    assert.ok(best, trained);
    assert.match(
      trained,
      new RegExp(`registered distance v2 \\(signed\\), lineage: dataset ${datasetId}, run ${best}`),
    );
    mark('sweep of 4 trained, best run registered as v2');
    assert.match(await cli('models', 'list'), /^distance\s+2\s+registered\s+[0-9a-f]{12}\s.*\sv1$/m);

    // 5. Deployed to the 4 cars.
    const deployed = await cli('deploy', 'distance@2', ...DEVICES.flatMap((d) => ['--device', d]));
    assert.match(deployed, /assigned distance v2 to 4 device\(s\)/);
    await waitFor(
      'the 4 cars running distance v2',
      async () => {
        const devices = (await api.devices()).filter((d) => DEVICES.includes(d.id));
        return (devices.length === 4 && devices.every((d) => d.models.some((m) => m.version === 2))) || undefined;
      },
      60_000,
      250,
    );
    mark('4 cars run v2');

    // 6. Its live MAE against the simulated sensor.
    const live = await waitFor(
      'v2 records with sensor references',
      async () => {
        const body = JSON.parse(await cli('live-error', '--model', 'distance', '--json')) as { errors: LiveError[] };
        const v2 = body.errors.find((e) => e.version === 2 && !e.shadow);
        return v2 && v2.n >= 120 ? body : undefined;
      },
      90_000,
      1000,
    );
    const maeOf = (version: number) => live.errors.find((e) => e.version === version && !e.shadow)?.mae ?? NaN;
    const v1 = { mae: maeOf(1), n: live.errors.find((e) => e.version === 1)?.n ?? 0 };
    const v2 = { mae: maeOf(2), n: live.errors.find((e) => e.version === 2)!.n };
    t.diagnostic(
      `live MAE: v1 ${v1.mae.toFixed(1)} mm (${v1.n} records), v2 ${v2.mae.toFixed(1)} mm (${v2.n} records)`,
    );
    assert.ok(v2.mae < LIVE_MAE_MM, `v2's live MAE ${v2.mae} mm over ${v2.n} records should be < ${LIVE_MAE_MM} mm`);
    // v1 (the committed sample) was trained on 2,000 frames of this phase; v2 here on a few hundred,
    // so it is not expected to beat v1, only to be a working model whose error the fleet measures.
    assert.ok(v1.n > 0 && Number.isFinite(v1.mae), 'v1 measured too, before the switch');
    assert.match(await cli('live-error', '--model', 'distance'), /^v2\s+served\s+\d+\s+[\d.]+\s+[\d.]+$/m);

    // Lineage: from one of v2's telemetry records back to the cars whose samples trained it.
    const telemetry = JSON.parse(
      await cli('telemetry', '--model', 'distance', '--version', '2', '--limit', '1', '--json'),
    ) as { records: TelemetryRow[] };
    const record = telemetry.records[0];
    assert.ok(record, 'a v2 telemetry record');
    const walk = JSON.parse(await cli('lineage', String(record.id), '--json')) as LineageWalk;
    assert.equal(walk.record?.id, record.id);
    assert.ok(DEVICES.includes(walk.record!.deviceId));
    assert.equal(walk.model.version, 2);
    assert.equal(walk.model.parent, 1);
    assert.equal(walk.run?.id, best);
    assert.equal(walk.run?.trainer, 'builtin');
    assert.equal(walk.dataset?.id, datasetId);
    assert.deepEqual(walk.sources.map((s) => s.deviceId).sort(), DEVICES);
    for (const s of walk.sources) {
      assert.ok(s.count > 0 && s.from !== null && s.to !== null && s.from <= s.to, JSON.stringify(s));
      assert.ok(s.to! < record.ts, 'the training window closed before the record was made');
    }
    assert.deepEqual(walk.gaps, []);
    const text = await cli('lineage', String(record.id));
    assert.match(text, new RegExp(`^record ${record.id}: device sim-car-\\d`));
    assert.match(text, new RegExp(`↳ training run ${best} `));
    assert.match(text, new RegExp(`↳ dataset ${datasetId} "phase1"`));
    for (const d of DEVICES) assert.match(text, new RegExp(`↳ device ${d}: \\d+ items, .+ – .+`));
    mark('lineage walked');

    sim.kill('SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, /stopped cleanly/);
  },
);
