/**
 * Security: every JSON route of the fleet server refuses a malformed body with a 400 (415 for a
 * body that does not say it is JSON) and a JSON `{"error"}`; none acts on it. `POST
 * /enrollment-tokens` with the body `null` used to create a token. The routes are walked from the
 * route table (protocol/src/rest/routes.ts), so a new JSON route without a row here fails this test.
 *
 * Also: 401 and 403 answers never reveal server paths (they used to name the admin.token file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type RouteSpec } from '@edgeloop/protocol';
import { isMultipartBody, REST_ROUTES } from '@edgeloop/protocol/rest';
import { TEST_ADMIN_TOKEN } from '../support/fleet-client.js';
import { startTestFleet } from '../support/in-process-fleet.js';

const DEVICE = 'pi-1';
const PATH_VALUES: Record<string, string> = {
  id: DEVICE,
  name: 'distance',
  model: 'distance',
  version: '1',
  verb: 'pause',
  sha256: 'a'.repeat(64),
};
const fill = (path: string, values: Record<string, string> = PATH_VALUES) =>
  path.replace(/\{([^}]+)\}/g, (_m, k: string) => values[k] ?? 'x');
const ROUTES = (Object.values(REST_ROUTES) as RouteSpec[]).map((r) => ({ ...r, method: r.method.toLowerCase() }));

/** Per JSON route: a body with the right shape but wrong-typed values. */
const WRONG_TYPES: Record<string, unknown> = {
  'post /api/v1/enroll': { token: 5, deviceId: ['x'] },
  'post /api/v1/enrollment-tokens': { uses: 'five' },
  'post /api/v1/admin-tokens': { name: 7 },
  'post /api/v1/sessions': { token: 5 },
  'put /api/v1/devices/{id}': { group: 5 },
  'post /api/v1/devices/{id}/samples/capture': { minutes: 'ten' },
  'post /api/v1/devices/{id}/samples/request': { minutes: 'ten' },
  'post /api/v1/deployments': { model: 'distance', version: '1', devices: [DEVICE] },
  'delete /api/v1/deployments/shadow/{model}': { devices: DEVICE },
  'put /api/v1/models/{name}/versions/{version}/status': { status: 1 },
  'post /api/v1/keys/keyset': { envelope: 'x' },
  'post /api/v1/rollouts': { model: 'distance', version: '1' },
  'post /api/v1/rollouts/preview': { model: 'distance', version: '1' },
  'post /api/v1/rollouts/{id}/{verb}': { reason: 5 },
  'post /api/v1/training/jobs': { dataset: 5, sweep: { runs: [{}] } },
  'post /api/v1/training/runs/{id}/register': { model: 7 },
  'post /api/v1/datasets': { selection: { model: 5 } },
  'post /api/v1/datasets/import': { items: 'x' },
  'post /api/v1/datasets/blobs/missing': { sha256: 'x' },
  'post /api/v1/rules': { name: 5, metric: 'output.psi', scope: 'version', windowMs: 'long' },
  'put /api/v1/rules/{name}/enabled': { enabled: 'yes' },
  'put /api/v1/models/{name}/{version}/reference': { scope: 'fleet', from: 'yesterday', to: 1 },
  'put /api/v1/loop/policies/{model}': { enabled: 'yes' },
  'post /api/v1/loop/policies/{model}/trigger': { force: 'yes' },
  'post /api/v1/loop/runs/{id}/cancel': { reason: 5 },
};

const MALFORMED: Array<{ label: string; body: string; contentType?: string; status: number; error: RegExp }> = [
  { label: 'null', body: 'null', status: 400, error: /must be a JSON object, got null/ },
  { label: 'an array', body: '[{"name": "x"}]', status: 400, error: /must be a JSON object, got an array/ },
  { label: 'a string', body: '"hello"', status: 400, error: /must be a JSON object, got a string/ },
  { label: 'a number', body: '42', status: 400, error: /must be a JSON object, got a number/ },
  { label: 'invalid JSON', body: '{"broken', status: 400, error: /not valid JSON/ },
  {
    label: 'wrong content-type',
    body: '{}',
    contentType: 'text/plain',
    status: 415,
    error: /content-type must be application\/json \(got "text\/plain"\)/,
  },
  {
    label: 'form content-type',
    body: 'name=x',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    error: /content-type must be application\/json/,
  },
];

test(
  'every JSON route refuses null, arrays, strings, numbers, invalid JSON, wrong types and a wrong content-type',
  { timeout: 120_000 },
  async (t) => {
    const h = await startTestFleet();
    t.after(() => h.close());
    await h.enroll(DEVICE);
    const routes = ROUTES.filter((op) => op.body && !isMultipartBody(op.body));
    assert.deepEqual(
      routes.map((op) => `${op.method} ${op.path}`).sort(),
      Object.keys(WRONG_TYPES).sort(),
      'a row per JSON route of the API',
    );
    const tokensBefore = (await h.server.identity.enrollmentTokens.list()).length;
    const adminsBefore = (await h.server.identity.adminTokens.list()).length;
    // The reported hole first: the body `null` used to create an enrollment token.
    const nullBody = await fetch(`${h.server.httpUrl}/api/v1/enrollment-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: 'null',
    });
    assert.equal(nullBody.status, 400, 'POST /enrollment-tokens with the body null is refused');
    assert.equal((await h.server.identity.enrollmentTokens.list()).length, tokensBefore, 'and creates no token');

    for (const op of routes) {
      const route = `${op.method.toUpperCase()} ${op.path}`;
      const send = async (body: string, contentType: string) => {
        const res = await fetch(`${h.server.httpUrl}${fill(op.path)}`, {
          method: op.method.toUpperCase(),
          headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': contentType },
          body,
        });
        return {
          status: res.status,
          type: res.headers.get('content-type') ?? '',
          body: (await res.json()) as { error?: string },
        };
      };
      for (const c of [
        ...MALFORMED,
        {
          label: 'wrong value types',
          body: JSON.stringify(WRONG_TYPES[`${op.method} ${op.path}`]),
          status: 400,
          error: /./,
        },
      ]) {
        const r = await send(c.body, c.contentType ?? 'application/json');
        assert.equal(r.status, c.status, `${route} with ${c.label}: ${JSON.stringify(r.body)}`);
        assert.match(r.type, /^application\/json/, `${route} with ${c.label}`);
        assert.match(r.body.error ?? '', c.error, `${route} with ${c.label}`);
      }
    }
    assert.equal(
      (await h.server.identity.enrollmentTokens.list()).length,
      tokensBefore,
      'no malformed body created an enrollment token',
    );
    assert.equal((await h.server.identity.adminTokens.list()).length, adminsBefore, 'nor an admin token');

    // Positive control: an empty body still means the defaults where a body is optional.
    const empty = await fetch(`${h.server.httpUrl}/api/v1/enrollment-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    assert.equal(empty.status, 201);
  },
);

test('401 and 403 answers never name server paths, and say how to get a token', { timeout: 60_000 }, async (t) => {
  const h = await startTestFleet();
  t.after(() => h.close());
  const creds = await h.enroll(DEVICE);
  const secretPaths = [h.dir, h.server.adminTokenFile];
  const refusals: string[] = [];
  for (const op of ROUTES.filter((o) => o.auth !== 'public')) {
    for (const authorization of [undefined, 'Bearer not-a-valid-admin-token']) {
      const res = await fetch(`${h.server.httpUrl}${fill(op.path)}`, {
        method: op.method.toUpperCase(),
        headers: { ...(authorization ? { authorization } : {}), 'content-type': 'application/json' },
        ...(op.method === 'get' ? {} : { body: '{}' }),
      });
      assert.equal(res.status, 401, `${op.method} ${op.path}`);
      refusals.push(await res.text());
    }
  }
  // A device asking for an artifact it was not assigned: 403.
  const sha = (await h.server.models.get('distance', 1))!.sha256;
  const forbidden = await fetch(`${h.server.httpUrl}/api/v1/artifacts/${sha}`, {
    headers: { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` },
  });
  assert.equal(forbidden.status, 403);
  refusals.push(await forbidden.text());

  for (const text of refusals) {
    for (const path of secretPaths) assert.ok(!text.includes(path), `no server path in ${text}`);
    assert.doesNotMatch(text, /admin\.token|\/tmp\/|server\.json/, text);
  }
  const anonymous = JSON.parse(refusals[0]!) as { error: string };
  assert.match(
    anonymous.error,
    /Authorization: Bearer <admin token>.*where the fleet server printed it at its first start.*edgeloop admin-tokens create/,
  );
});
