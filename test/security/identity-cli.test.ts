/**
 * The operator side of identity, through the real `edgeloop` CLI process: enrollment
 * tokens, devices (set, show, disable, enable), admin tokens and the audit log; the admin token
 * comes from --token or EDGELOOP_TOKEN, and without one the CLI says how to give it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_ADMIN_TOKEN } from '../support/fleet-client.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { runCli } from '../support/processes.js';
import { main } from '@edgeloop/fleet-server/cli';

test('edgeloop tokens, devices, admin-tokens and audit against a live server', { timeout: 120_000 }, async (t) => {
  const h = await startTestFleet();
  t.after(() => h.close());
  const url = h.server.httpUrl;
  // In this process (fast); the token as --token. One real process below checks EDGELOOP_TOKEN.
  const cli = async (args: string[], token: string | null = TEST_ADMIN_TOKEN) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['--server', url, ...(token === null ? [] : ['--token', token]), ...args], {
      out: (s) => out.push(s),
      err: (s) => err.push(s),
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  };

  const noToken = await cli(['tokens', 'list'], null);
  assert.equal(noToken.code, 1);
  assert.match(noToken.stderr, /HTTP 401.*The CLI had no admin token: pass --token, set EDGELOOP_TOKEN/);
  const wrong = await cli(['tokens', 'list'], 'not-the-token-at-all');
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /admin token not recognised.*refused; pass another with --token/);
  const viaEnv = await runCli(['tokens', 'list'], url, { token: TEST_ADMIN_TOKEN });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.match(viaEnv.stdout, /no enrollment tokens/);

  const created = await cli([
    'tokens',
    'create',
    '--uses',
    '2',
    '--ttl',
    '2h',
    '--group',
    'plant-7',
    '--tag',
    'hw=pi4',
    '--tag',
    'site=south',
  ]);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^ele_[A-Za-z0-9_-]{20,}$/, 'stdout is just the token, for scripts');
  assert.match(
    created.stderr,
    /2 uses, expires .*group plant-7, tags hw=pi4,site=south.*shown only now.*edgeloop-agent enroll --fleet http/s,
  );
  await h.server.identity.enroll({ token, deviceId: 'cli-pi' });

  const list = await cli(['tokens', 'list']);
  assert.match(list.stdout, /enr_[0-9a-f]+\s+active\s+1\/2 .*plant-7\s+hw=pi4,site=south\s+admin/);
  assert.ok(!list.stdout.includes(token), 'the list never shows the token');

  assert.equal((await cli(['devices', 'set', 'cli-pi', '--group', 'plant-8', '--tag', 'hw=pi5'])).code, 0);
  assert.equal((await cli(['devices', 'disable', 'cli-pi'])).code, 0);
  const shown = await cli(['devices', 'show', 'cli-pi']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /status\s+disabled/);
  assert.match(shown.stdout, /credential\s+issued .*username cli-pi/);
  assert.match(shown.stdout, /group\s+plant-8\ntags\s+hw=pi5/);
  assert.equal((await cli(['devices', 'enable', 'cli-pi'])).code, 0);
  const missing = await cli(['devices', 'disable', 'no-such-pi']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no device "no-such-pi".*edgeloop devices/);

  const admin = await cli(['admin-tokens', 'create', '--name', 'ops-laptop']);
  assert.equal(admin.code, 0, admin.stderr);
  const opsToken = admin.stdout.trim();
  assert.equal((await cli(['devices', 'revoke', 'cli-pi'], opsToken)).code, 0);
  const auditor = await cli(['admin-tokens', 'create', '--name', 'auditor', '--role', 'viewer']);
  assert.equal(auditor.code, 0, auditor.stderr);
  assert.match(auditor.stderr, /"auditor" \(viewer\)/);
  const readOnly = await cli(['devices', 'disable', 'cli-pi'], auditor.stdout.trim());
  assert.equal(readOnly.code, 1);
  assert.match(readOnly.stderr, /needs the admin role; the token "auditor" is a viewer/);
  const badRole = await cli(['admin-tokens', 'create', '--name', 'x', '--role', 'root']);
  assert.equal(badRole.code, 2, badRole.stderr);
  assert.match(badRole.stderr, /--role must be one of viewer, operator, admin/);
  const tokens = await cli(['admin-tokens', 'list']);
  assert.match(tokens.stdout, /ops-laptop\s+admin\s+active/);
  assert.match(tokens.stdout, /auditor\s+viewer\s+active/);

  const auditLog = await cli(['audit', '--limit', '20']);
  assert.equal(auditLog.code, 0, auditLog.stderr);
  const lines = auditLog.stdout.split('\n');
  for (const expected of [
    /ops-laptop\s+device\.revoke\s+cli-pi/,
    /admin\s+device\.enable\s+cli-pi/,
    /admin\s+device\.disable\s+cli-pi/,
    /admin\s+device\.label\s+cli-pi/,
    /admin\s+enrollment-token\.create\s+enr_/,
    /admin\s+admin-token\.create/,
  ]) {
    assert.ok(
      lines.some((l) => expected.test(l)),
      `audit shows ${expected}:\n${auditLog.stdout}`,
    );
  }
  const byActor = await cli(['audit', '--actor', 'ops-laptop', '--json']);
  assert.deepEqual(
    (JSON.parse(byActor.stdout) as { entries: Array<{ action: string }> }).entries.map((e) => e.action),
    ['device.revoke'],
  );
});
