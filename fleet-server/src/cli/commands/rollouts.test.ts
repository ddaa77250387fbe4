/**
 * `edgeloop rollouts …` against a real fleet server (REST API, engine, SQLite): create, list,
 * status with progress bars, pause, resume and rollback; plus flag parsing on its own. Devices
 * report through the server's device store (the agent path is covered in test/integration).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildReferenceModel } from '@edgeloop/models';
import { recordUpdateReport } from '../../deploy/update-reports.js';
import { startFleetServer } from '../../server.js';
import { main } from '../edgeloop.js';
import { createRequest, parseWaves, progressBar } from './rollouts.js';

const TOKEN = 'rollout-cli-test-admin-token';

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('flags become a create request; everything else is left to server defaults', () => {
  assert.deepEqual(
    createRequest(['distance@3'], {
      strategy: 'canary',
      canary: '2',
      'max-error-ratio': '1.5',
      tag: ['site=a'],
      wait: '30s',
    }),
    {
      model: 'distance',
      version: 3,
      strategy: 'canary',
      target: { tags: { site: 'a' } },
      parameters: { canary: { count: 2 }, waitMs: 30_000, liveError: { maxErrorRatio: 1.5 } },
    },
  );
  assert.deepEqual(createRequest(['distance@3'], {}), {
    model: 'distance',
    version: 3,
    strategy: 'staged',
    target: { all: true },
  });
  assert.deepEqual(parseWaves('1,10%,100%'), [{ count: 1 }, { percent: 10 }, { percent: 100 }]);
  assert.throws(() => parseWaves('10%,half'), /"half" is neither/);
  assert.throws(() => createRequest(['distance@3'], { group: 'g', device: ['d'] }), /choose one target/);
  assert.throws(() => createRequest(['distance@3'], { strategy: 'yolo' }), /--strategy takes/);
  assert.equal(progressBar(1, 4), `[${'#'.repeat(6)}${'.'.repeat(18)}]`);
});

test('rollouts create, list, status, pause, resume and rollback through the CLI', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-rollout-cli-'));
  const server = await startFleetServer(
    {
      dataDir: dir,
      http: { port: 0 },
      mqtt: { mode: 'embedded', port: 0 },
      adminToken: TOKEN,
      rollouts: { tickMs: 20 },
      validateResponses: true,
    },
    pino({ level: 'silent' }),
  );
  const saved = process.env.EDGELOOP_TOKEN;
  process.env.EDGELOOP_TOKEN = TOKEN;
  t.after(async () => {
    process.env.EDGELOOP_TOKEN = saved;
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await server.registry.register({ name: 'distance', bytes: buildReferenceModel({ seed: 1 }) });
  await server.registry.register({ name: 'distance', bytes: buildReferenceModel({ seed: 2 }) });
  const sha = (await server.models.get('distance', 1))!.sha256;
  let reportSeq = 0;
  const report = (id: string, version: number, state: 'active' | 'failed') =>
    recordUpdateReport(server.store, id, {
      v: 1,
      model: 'distance',
      version,
      state,
      ts: Date.now(),
      session: 1,
      reportSeq: ++reportSeq,
    });
  for (const id of ['cli-1', 'cli-2']) {
    await server.store.devices.recordBirth({
      v: 1,
      type: 'birth',
      deviceId: id,
      session: 1,
      ts: Date.now(),
      agentVersion: 't',
      arch: 'x64',
      platform: 'linux',
      cpus: 1,
      memTotalMb: 1,
      runtime: { name: 't', version: '0' },
      models: [{ name: 'distance', version: 1, sha256: sha }],
      stream: 's',
      backlog: 0,
    });
  }
  const s = ['--server', server.httpUrl];

  const post = async (path: string, body: string) => {
    const res = await fetch(`${server.httpUrl}/api/v1/rollouts${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body,
    });
    return { status: res.status, error: ((await res.json()) as { error?: string }).error ?? '' };
  };
  assert.deepEqual(
    await post('', '{"model": "distance", "version": 2, "strategy": "sideways", "target": {"all": true}}'),
    {
      status: 400,
      error: 'invalid rollout: strategy: Invalid option: expected one of "direct"|"staged"|"canary"|"ab"|"shadow"',
    },
  );
  assert.match(
    (
      await post(
        '',
        '{"model": "distance", "version": 2, "strategy": "direct", "target": {"all": true}, "parameters": {"waves": [{"percent": 50}]}}',
      )
    ).error,
    /waves apply to staged and canary/,
  );
  assert.match((await post('', 'nope')).error, /body is not valid JSON/);
  assert.equal((await post('/ro-x/explode', '')).status, 404);
  assert.match((await post('/ro-x/pause', '{"why": 1}')).error, /send \{"reason": "why"\} or nothing/);

  const bad = await cli(['rollouts', 'create', 'distance@9', ...s]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /distance has no v9 \(latest is v2\)/);

  const created = await cli([
    'rollouts',
    'create',
    'distance@2',
    '--strategy',
    'staged',
    '--waves',
    '50%,100%',
    '--wait',
    '0s',
    '--device',
    'cli-1',
    '--device',
    'cli-2',
    '--reason',
    'try v2',
    ...s,
  ]);
  assert.equal(created.code, 0, created.err);
  const id = /rollout (ro-[0-9a-f]+)/.exec(created.out)![1]!;
  assert.match(created.out, /distance v2 \(staged\) to 2 device\(s\) in 2 wave\(s\), running/);

  const again = await cli(['rollouts', 'create', 'distance@2', ...s]);
  assert.equal(again.code, 1);
  assert.match(again.err, new RegExp(`rollout ${id} of distance v2 is still running`));

  const listed = await cli(['rollouts', 'list', ...s]);
  assert.match(listed.out, new RegExp(`${id}\\s+distance v2\\s+staged\\s+running\\s+1/2`));

  await report('cli-1', 2, 'active');
  const status = await cli(['rollouts', 'status', id, ...s]);
  assert.equal(status.code, 0, status.err);
  assert.match(status.out, /wave 1 {2}\[[#.]{24}\] \d\/1 active/);
  assert.match(status.out, /live error: candidate v2 MAE n\/a \(0 records\)/);

  assert.match((await cli(['rollouts', 'pause', id, '--reason', 'lunch', ...s])).out, /is now paused/);
  assert.match(
    (await cli(['rollouts', 'pause', id, ...s])).err,
    /cannot pause rollout .* only a running rollout can be paused/,
  );
  assert.match((await cli(['rollouts', 'resume', id, ...s])).out, /is now running/);
  const back = await cli(['rollouts', 'rollback', id, '--reason', 'changed my mind', ...s]);
  assert.equal(back.code, 0, back.err);
  assert.match(back.out, /is now rolled-back; v1 re-released as v3/);
  const final = await cli(['rollouts', 'status', id, '--watch', ...s]);
  assert.match(final.out, /reason: changed my mind/);
  assert.match(final.out, /rolled back: v1 re-released as v3/);
  const byOperator = (await server.audit.list({ target: id }))
    .filter((a) => a.actor !== 'system')
    .map((a) => a.action)
    .reverse();
  assert.deepEqual(byOperator, ['rollout.create', 'rollout.pause', 'rollout.resume', 'rollout.rollback']);
});
