/**
 * `edgeloop loop …` against the loop routes served over HTTP (real SQLite store, answers checked
 * against the REST contract, a recording stand-in for the loop engine): policy files set, read
 * back as files, listed and removed; a manual trigger and a cancel reaching the engine; runs
 * listed, and one shown with its steps, the gate's comparison and its verdict.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoopRun } from '@edgeloop/protocol/rest';
import { loopApi } from '../../api/loop-api-fixture.js';
import { loopRun } from '../../store/store-suite/loop-contract.js';
import { main } from '../edgeloop.js';
import { formatDurationMs } from './loop.js';

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const POLICY_YAML = `
model: distance
triggers:
  - kind: incident
    rules: [drift]
guards: { maxRunsPerDay: 3 }
`;

/** A run the gate rejected: better on recent data, but too much worse on the original holdout. */
const rejected = (): LoopRun => {
  const run = loopRun('lr-00000000aa', 'distance', 1_000_000);
  return {
    ...run,
    state: 'rejected',
    step: 'gate',
    datasetId: 'ds-000000000000000000000001',
    trainingJobId: 'tj-1',
    trainingRunId: 'tj-1-0',
    steps: [
      { ...run.steps[0]! },
      { ...run.steps[1]!, status: 'succeeded', finishedAt: 1_030_000, outcome: '700 recent samples' },
      {
        name: 'train',
        status: 'succeeded',
        startedAt: 1_030_000,
        finishedAt: 1_102_000,
        outcome: 'best of 2 runs',
        detail: {},
      },
      {
        name: 'gate',
        status: 'failed',
        startedAt: 1_102_000,
        finishedAt: 1_103_000,
        outcome: 'challenger rejected',
        detail: {},
      },
    ],
    gate: {
      champion: { model: 'distance', version: 1 },
      challenger: { trainingRunId: 'tj-1-0', modelSha256: 'ab'.repeat(32) },
      recent: {
        count: 70,
        champion: { mae: 2, rmse: 2.5 },
        challenger: { mae: 1.2, rmse: 1.5 },
        ratio: 0.6,
        passed: true,
      },
      original: {
        count: 12,
        champion: { mae: 1, rmse: 1.2 },
        challenger: { mae: 1.5, rmse: 1.8 },
        ratio: 1.5,
        passed: null,
      },
      minImprovement: 0.1,
      originalTolerance: 0.1,
      verdict: 'rejected',
      reasons: ['original holdout: 12 items, fewer than the 30 needed'],
      evaluatedAt: 1_103_000,
    },
    reason: 'the gate rejected the challenger',
    updatedAt: 1_103_000,
    finishedAt: 1_103_000,
  };
};

test('edgeloop loop: policy files, trigger, cancel, list and show with the gate', async (t) => {
  const { store, loop, violations, serve } = await loopApi(t);
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-loop-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = ['--server', await serve(), '--token', 'unused'];

  const yamlFile = join(dir, 'distance.yaml');
  writeFileSync(yamlFile, POLICY_YAML);
  const set = await cli(['loop', 'policy', 'set', yamlFile, ...s]);
  assert.equal(set.code, 0, set.err);
  assert.equal(
    set.out,
    'loop policy for distance stored: triggers incident (drift); gate ≥ 10 % better on recent data, ≤ 10 % worse on the original holdout; rollout canary; at most 3 automatic runs a day, 30m 00s cool-down',
  );
  const badFile = join(dir, 'bad.json');
  writeFileSync(badFile, JSON.stringify({ model: 'distance', gate: { minImprovement: 5 } }));
  const bad = await cli(['loop', 'policy', 'set', badFile, ...s]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /the policy file .*bad\.json is invalid: gate\.minImprovement.*; write e\.g\. \{"model"/);

  // What `policy get` prints, `policy set` takes back.
  const got = await cli(['loop', 'policy', 'get', 'distance', ...s]);
  assert.equal(got.code, 0, got.err);
  const jsonFile = join(dir, 'distance.json');
  writeFileSync(jsonFile, got.out.replace('"enabled": true', '"enabled": false'));
  assert.equal((await cli(['loop', 'policy', 'set', jsonFile, ...s])).code, 0);
  assert.equal((await store.loop.getPolicy('distance'))?.policy.enabled, false);
  const list = await cli(['loop', 'policy', 'list', ...s]);
  assert.match(list.out, /^MODEL\s+ENABLED\s+TRIGGERS\s+ROLLOUT\s+RUNS\/DAY\s+COOL-DOWN\s+UPDATED\s+BY$/m);
  assert.match(list.out, /^distance\s+no\s+incident \(drift\)\s+canary\s+3\s+30m 00s\s+\S+ \S+\s+ops$/m);

  // An earlier run, as the engine left it.
  assert.equal(await store.loop.startRun(rejected()), true);
  const triggered = await cli(['loop', 'trigger', 'distance', '--reason', 'new site', '--force', ...s]);
  assert.equal(triggered.code, 0, triggered.err);
  const id = /^loop run (lr-[0-9a-f]{10}) started for distance \(step data\)/.exec(triggered.out)?.[1];
  assert.ok(id, triggered.out);
  assert.match(triggered.out, new RegExp(`follow it with edgeloop loop show ${id}$`));
  const again = await cli(['loop', 'trigger', 'distance', ...s]);
  assert.equal(again.code, 1);
  assert.match(again.err, /a run of distance is running/);

  const runs = await cli(['loop', 'list', ...s]);
  assert.equal(runs.code, 0, runs.err);
  const lines = runs.out.split('\n');
  assert.match(lines[0]!, /^ID\s+MODEL\s+STATE\s+STEP\s+TRIGGER\s+CHAMPION → VERSION\s+CREATED\s+DURATION$/);
  assert.match(lines[1]!, new RegExp(`^${id}\\s+distance\\s+running\\s+data\\s+manual by ops\\s+v1 → -\\s+.*so far$`));
  assert.match(
    lines[2]!,
    /^lr-00000000aa\s+distance\s+rejected\s+gate\s+incident in-1 \(drift\)\s+v1 → -\s+.*\s+1m 43s$/,
  );
  const filtered = JSON.parse((await cli(['loop', 'list', '--state', 'rejected', '--json', ...s])).out) as {
    runs: LoopRun[];
  };
  assert.deepEqual(
    filtered.runs.map((r) => r.id),
    ['lr-00000000aa'],
  );
  const paged = await cli(['loop', 'list', '--limit', '1', ...s]);
  assert.match(paged.out, /more: edgeloop loop list --before \d+$/);
  const badState = await cli(['loop', 'list', '--state', 'done', ...s]);
  assert.equal(badState.code, 2);
  assert.match(badState.err, /--state must be one of running, succeeded, rejected/);

  const shown = await cli(['loop', 'show', 'lr-00000000aa', ...s]);
  assert.equal(shown.code, 0, shown.err);
  for (const line of [
    /^loop run lr-00000000aa \(rejected, step gate\): distance, champion v1$/m,
    /^trigger: incident in-1 \(drift\), by system at .*, drift since .*, devices d1$/m,
    /^created .*, finished .* after 1m 43s$/m,
    /^reason: the gate rejected the challenger$/m,
    /^dataset ds-000000000000000000000001, training job tj-1, training run tj-1-0, version -, rollout -$/m,
    /^STEP\s+STATUS\s+STARTED\s+FINISHED\s+DURATION\s+OUTCOME$/m,
    /^data\s+succeeded\s+.*\s+30s\s+700 recent samples$/m,
    /^train\s+succeeded\s+.*\s+1m 12s\s+best of 2 runs$/m,
    /^gate: champion distance v1 against challenger run tj-1-0 \(model abababababab\)/m,
    /needs: challenger MAE ≤ 90 % of the champion's on recent data, ≤ 110 % on the original holdout$/m,
    /^ {2}HOLDOUT\s+COUNT\s+CHAMPION MAE\s+CHALLENGER MAE\s+RATIO\s+PASSED$/m,
    /^ {2}recent\s+70\s+2\s+1\.2\s+0\.6\s+yes$/m,
    /^ {2}original\s+12\s+1\s+1\.5\s+1\.5\s+too few to judge$/m,
    /^verdict: rejected\n {2}- original holdout: 12 items, fewer than the 30 needed$/m,
  ])
    assert.match(shown.out, line);
  const malformed = await cli(['loop', 'show', 'nope', ...s]);
  assert.equal(malformed.code, 1);
  assert.match(malformed.err, /must be a loop run id/);

  const cancelled = await cli(['loop', 'cancel', id, '--reason', 'wrong window', ...s]);
  assert.equal(cancelled.code, 0, cancelled.err);
  assert.equal(cancelled.out, `loop run ${id} cancelled at step data`);
  assert.deepEqual(loop!.calls, [
    ['trigger', 'distance', { reason: 'new site', force: true }, 'ops'],
    ['trigger', 'distance', { force: false }, 'ops'],
    ['cancel', id, 'wrong window', 'ops'],
  ]);

  const removed = await cli(['loop', 'policy', 'delete', 'distance', ...s]);
  assert.equal(removed.out, 'loop policy for distance removed: nothing retrains it automatically any more');
  const gone = await cli(['loop', 'policy', 'get', 'distance', ...s]);
  assert.equal(gone.code, 1);
  assert.match(gone.err, /no loop policy for model "distance"; set one with edgeloop loop policy set <file>/);
  const usage = await cli(['loop', 'policy', 'frob', ...s]);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /loop policy takes list, get <model>, set <file\.json\|file\.yaml> or delete <model>/);
  assert.deepEqual(violations, []);
});

test('loop durations read in the largest units that matter', () => {
  assert.deepEqual([950, 12_000, 72_000, 7_500_000, 3 * 86_400_000 + 3_600_000].map(formatDurationMs), [
    '950ms',
    '12s',
    '1m 12s',
    '2h 05m',
    '3d 01h',
  ]);
});
