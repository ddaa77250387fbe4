/**
 * Roles enforced by the API: a viewer reads, an operator also runs rollouts, only an admin
 * rotates keys, makes tokens or changes devices' access; every refusal names the role needed and
 * how to get it. Against a real server with the response contract checked on every answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SAMPLE_MODELS } from '@edgeloop/models';
import type { AdminTokenSummary, CreatedAdminToken } from '@edgeloop/protocol';
import { startFleetServer } from '../server.js';

test('roles: viewer reads, operator runs rollouts, admin holds keys, tokens and devices’ access', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-roles-'));
  const s = await startFleetServer(
    { dataDir: join(dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded', port: 0 }, validateResponses: true },
    pino({ level: 'silent' }),
  );
  t.after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${s.httpUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as Record<
        string,
        unknown
      >,
    };
  };
  const admin = s.adminToken!;
  const make = async (name: string, role?: string) => {
    const res = await call(admin, 'POST', '/api/v1/admin-tokens', { name, ...(role ? { role } : {}) });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as unknown as CreatedAdminToken;
  };
  const viewer = await make('auditor', 'viewer');
  const operator = await make('ops', 'operator');
  const scripted = await make('old-script');
  assert.equal(viewer.adminToken.role, 'viewer');
  assert.equal(operator.adminToken.role, 'operator');
  assert.equal(scripted.adminToken.role, 'admin', 'no role given: admin, as before roles existed');
  const listed = (await call(admin, 'GET', '/api/v1/admin-tokens')).body.adminTokens as AdminTokenSummary[];
  assert.deepEqual(
    listed.map((a) => [a.name, a.role]),
    [
      ['admin', 'admin'],
      ['auditor', 'viewer'],
      ['ops', 'operator'],
      ['old-script', 'admin'],
    ],
    'the bootstrap token is an admin; the list shows every role',
  );
  const badRole = await call(admin, 'POST', '/api/v1/admin-tokens', { name: 'x', role: 'root' });
  assert.equal(badRole.status, 400);
  assert.match(String(badRole.body.error), /role/);

  // viewer: reads everything, changes nothing.
  assert.equal((await call(viewer.token, 'GET', '/api/v1/devices')).status, 200);
  assert.equal((await call(viewer.token, 'GET', '/api/v1/audit')).status, 200);
  assert.equal((await call(viewer.token, 'GET', '/metrics')).status, 200, '/metrics is a read');
  await s.registry.register({ name: 'distance', bytes: readFileSync(SAMPLE_MODELS.v1) });
  await s.store.devices.ensure('pi-roles');
  const rollout = { model: 'distance', version: 1, strategy: 'direct', target: { devices: ['pi-roles'] } };
  const refused = await call(viewer.token, 'POST', '/api/v1/rollouts', rollout);
  assert.equal(refused.status, 403);
  assert.equal(
    refused.body.error,
    'POST /api/v1/rollouts needs the operator role; the token "auditor" is a viewer: ask an admin for an operator token (edgeloop admin-tokens create --name N --role operator)',
  );
  assert.equal((await s.store.rollouts.list()).length, 0, 'nothing was started');

  // operator: runs the fleet, but not its keys, tokens or devices' access.
  const started = await call(operator.token, 'POST', '/api/v1/rollouts', rollout);
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const rotate = await call(operator.token, 'POST', '/api/v1/keys/rotate');
  assert.equal(rotate.status, 403);
  assert.match(
    String(rotate.body.error),
    /^POST \/api\/v1\/keys\/rotate needs the admin role; the token "ops" is an operator: ask an admin for an admin token \(edgeloop admin-tokens create --name N --role admin\)$/,
  );
  assert.equal(
    (await call(operator.token, 'POST', '/api/v1/admin-tokens', { name: 'sneaky', role: 'admin' })).status,
    403,
  );
  assert.equal((await call(operator.token, 'POST', '/api/v1/enrollment-tokens')).status, 403);
  assert.equal((await call(operator.token, 'POST', '/api/v1/devices/pi-roles/disable')).status, 403);
  assert.equal((await call(operator.token, 'GET', '/api/v1/keys')).status, 200, 'reading keys is a read');

  // admin: everything.
  assert.equal((await call(scripted.token, 'POST', '/api/v1/keys/rotate')).status, 200);
  assert.equal((await call(admin, 'POST', '/api/v1/devices/pi-roles/disable')).status, 200);

  // The audit log names who acted, whatever the role.
  const audit = await s.audit.list({ action: 'rollout' });
  assert.ok(
    audit.some((e) => e.actor === 'ops'),
    JSON.stringify(audit),
  );

  // Revoking: a non-admin token always may go; the last admin may not.
  assert.equal((await call(admin, 'POST', `/api/v1/admin-tokens/${viewer.adminToken.id}/revoke`)).status, 200);
  assert.equal((await call(admin, 'POST', `/api/v1/admin-tokens/${scripted.adminToken.id}/revoke`)).status, 200);
  const bootstrapId = listed.find((a) => a.name === 'admin')!.id;
  const last = await call(admin, 'POST', `/api/v1/admin-tokens/${bootstrapId}/revoke`);
  assert.equal(last.status, 409, 'an operator remains, but no admin would');
  assert.match(String(last.body.error), /last active one with the admin role; create another admin first/);
  assert.deepEqual(s.contractViolations, []);
});
