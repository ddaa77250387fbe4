/**
 * Security: one mistyped version used to lock a model name out of updates. `version=9007199254740991`
 * was accepted at push, `version=1e3` was read as 1000, and every later push for the name failed
 * with "version must be a positive integer, got undefined" while devices that took the huge
 * version refused every later one. Now versions are plain decimal digits up to MAX_MODEL_VERSION
 * (2^31 - 1), and a jump of more than the server's maxVersionJump (default 1000) above the latest
 * needs `--force` (API field force=true). Through the REST API and the real CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { MAX_MODEL_VERSION } from '@edgeloop/protocol';
import { startFleetServer } from '@edgeloop/fleet-server';
import { TEST_ADMIN_TOKEN } from '../support/fleet-client.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { main } from '@edgeloop/fleet-server/cli';

const model = readFileSync(SAMPLE_MODELS.v2);

test(
  'push: versions are plain decimal integers within the bound; errors say what was wrong',
  { timeout: 60_000 },
  async (t) => {
    const h = await startTestFleet(); // "distance" v1 is registered
    t.after(() => h.close());
    const push = async (fields: Record<string, string>) => {
      const form = new FormData();
      form.append('file', new Blob([model]), 'distance.onnx');
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      const res = await fetch(`${h.server.httpUrl}/api/v1/models`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        body: form,
      });
      return { status: res.status, body: (await res.json()) as { error?: string; model?: { version: number } } };
    };

    for (const version of ['1e3', '1.0', '+5', ' 5', '0x10', '0', '-2']) {
      const r = await push({ name: 'distance', version });
      assert.equal(r.status, 400, version);
      assert.match(
        r.body.error!,
        /field "version": version must be a whole number written in plain decimal digits/,
        version,
      );
      assert.ok(r.body.error!.includes(`"${version}"`), `names what was sent: ${r.body.error}`);
    }
    for (const version of ['9007199254740991', String(MAX_MODEL_VERSION + 1)]) {
      const r = await push({ name: 'distance', version, force: 'true' });
      assert.equal(r.status, 400, version);
      assert.match(
        r.body.error!,
        new RegExp(`version ${version} is above the highest allowed version ${MAX_MODEL_VERSION}`),
      );
    }
    const badForce = await push({ name: 'distance', version: '2', force: 'yes' });
    assert.equal(badForce.status, 400);
    assert.match(badForce.body.error!, /field "force" must be "true" or "false", got "yes"/);

    // A jump over the limit: refused with the current version and --force named; forced it works.
    const jump = await push({ name: 'distance', version: '5000' });
    assert.equal(jump.status, 409);
    assert.match(
      jump.body.error!,
      /distance v5000 is 4999 above the current version \(the latest is v1\); more than 1000 .*--force \(API field force=true\)/,
    );
    const forced = await push({ name: 'distance', version: '5000', force: 'true' });
    assert.equal(forced.status, 201, forced.body.error);
    assert.equal(forced.body.model!.version, 5000);
    // The name keeps taking pushes: the next one is 5001, nothing is locked.
    const next = await push({ name: 'distance' });
    assert.equal(next.status, 201, next.body.error);
    assert.equal(next.body.model!.version, 5001);

    // Path and query versions follow the same rule.
    const show = await fetch(`${h.server.httpUrl}/api/v1/models/distance/versions/1e3`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    assert.equal(show.status, 400);
    assert.match(((await show.json()) as { error: string }).error, /plain decimal digits.*"1e3"/);
    for (const query of ['telemetry?version=1e3', 'telemetry/error?model=distance&version=0x10']) {
      const res = await fetch(`${h.server.httpUrl}/api/v1/${query}`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
      assert.equal(res.status, 400, query);
      assert.match(((await res.json()) as { error: string }).error, /version must be plain decimal digits/, query);
    }
  },
);

test('edgeloop models push: --version is checked locally, a big jump needs --force', { timeout: 60_000 }, async (t) => {
  const h = await startTestFleet();
  t.after(() => h.close());
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['--server', h.server.httpUrl, '--token', TEST_ADMIN_TOKEN, ...args], {
      out: (s) => out.push(s),
      err: (s) => err.push(s),
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  };
  const typo = await cli('models', 'push', SAMPLE_MODELS.v2, '--name', 'distance', '--version', '1e3');
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /--version must be a whole number written in plain decimal digits .*got "1e3"/);
  assert.equal(await h.server.models.latestVersion('distance'), 1, 'nothing was uploaded');

  const jump = await cli('models', 'push', SAMPLE_MODELS.v2, '--name', 'distance', '--version', '2000');
  assert.equal(jump.code, 1);
  assert.match(jump.stderr, /the latest is v1.*--force.*\(HTTP 409\)/);
  const forced = await cli('models', 'push', SAMPLE_MODELS.v2, '--name', 'distance', '--version', '2000', '--force');
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /registered distance v2000/);
  const plain = await cli('models', 'push', SAMPLE_MODELS.v2, '--name', 'distance');
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /registered distance v2001/);
});

test('the jump limit is the server setting registry.maxVersionJump', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-jump-'));
  const server = await startFleetServer(
    {
      dataDir: dir,
      http: { port: 0 },
      mqtt: { mode: 'embedded', port: 0 },
      adminToken: TEST_ADMIN_TOKEN,
      registry: { maxVersionJump: 5 },
    },
    pino({ level: 'silent' }),
  );
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await assert.rejects(
    () => server.registry.register({ name: 'distance', bytes: model, version: 6 }),
    /more than 5 is refused/,
  );
  assert.equal((await server.registry.register({ name: 'distance', bytes: model, version: 5 })).version, 5);
});
