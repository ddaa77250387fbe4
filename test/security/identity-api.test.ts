/**
 * Security: the REST API needs an admin token (hashed at rest, revocable, named for
 * the audit log); artifact downloads need device credentials or an admin token; only health,
 * enrollment and the API description are public. Every refusal says what to do.
 * Each once on each store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AdminTokenSummary, AuditEntrySummary, CreatedAdminToken } from '@edgeloop/protocol';
import { TEST_ADMIN_TOKEN } from '../support/fleet-client.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { STORES, storeSkip } from '../support/stores.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

for (const store of STORES) {
  const skip = await storeSkip(store);
  test(
    `API calls without a token, with a wrong one or a revoked one get 401 with what to do (${store})`,
    { timeout: 60_000, skip },
    async (t) => {
      const h = await startTestFleet({ store });
      t.after(() => h.close());
      const url = h.server.httpUrl;
      const get = async (path: string, headers: Record<string, string> = {}) => {
        const res = await fetch(`${url}${path}`, { headers });
        return {
          status: res.status,
          body: (await res.json()) as { error?: string },
          challenge: res.headers.get('www-authenticate'),
        };
      };

      const none = await get('/api/v1/devices');
      assert.equal(none.status, 401);
      assert.match(
        none.body.error!,
        /Authorization: Bearer <admin token>.*edgeloop admin-tokens create.*--token or EDGELOOP_TOKEN/,
      );
      assert.match(none.challenge ?? '', /^Bearer/);
      const wrong = await get('/api/v1/devices', bearer(`${TEST_ADMIN_TOKEN}x`));
      assert.equal(wrong.status, 401);
      assert.match(wrong.body.error!, /admin token not recognised/);
      assert.equal(
        (await get('/api/v1/devices', bearer(TEST_ADMIN_TOKEN))).status,
        200,
        'the right token works (positive control)',
      );
      // Writes too, and before the body is looked at.
      const post = await fetch(`${url}/api/v1/deployments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"model":"distance","version":1,"devices":["x"]}',
      });
      assert.equal(post.status, 401);

      // Public: health (devices read the key there), the API description, enrollment (its token is the credential).
      assert.equal((await get('/api/v1/health')).status, 200);
      const enroll = await fetch(`${url}/api/v1/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: 'nope', deviceId: 'x-1' }),
      });
      assert.equal(
        enroll.status,
        401,
        'reaches the route: refused for the bad enrollment token, not for a missing admin token',
      );
      assert.match(((await enroll.json()) as { error: string }).error, /unknown enrollment token/);

      // A second admin token: it works, is named in the audit log, and stops working when revoked.
      const created = await fetch(`${url}/api/v1/admin-tokens`, {
        method: 'POST',
        headers: { ...bearer(TEST_ADMIN_TOKEN), 'content-type': 'application/json' },
        body: '{"name": "ci-bot"}',
      });
      assert.equal(created.status, 201);
      const { token, adminToken } = (await created.json()) as CreatedAdminToken;
      await fetch(`${url}/api/v1/devices/nobody/disable`, { method: 'POST', headers: bearer(token) });
      const tagged = await fetch(`${url}/api/v1/enrollment-tokens`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: '{"uses": 2}',
      });
      assert.equal(tagged.status, 201);
      const audit = (await get('/api/v1/audit?actor=ci-bot', bearer(TEST_ADMIN_TOKEN))).body as {
        entries: AuditEntrySummary[];
      };
      assert.deepEqual(
        audit.entries.map((e) => e.action),
        ['enrollment-token.create'],
        'the audit names the token that acted',
      );

      const listed = (await get('/api/v1/admin-tokens', bearer(TEST_ADMIN_TOKEN))).body as {
        adminTokens: AdminTokenSummary[];
      };
      assert.deepEqual(listed.adminTokens.map((a) => a.name).sort(), ['admin', 'ci-bot']);
      assert.ok(!JSON.stringify(listed).includes(token), 'listing never shows a secret');
      const revoke = await fetch(`${url}/api/v1/admin-tokens/${adminToken.id}/revoke`, {
        method: 'POST',
        headers: bearer(TEST_ADMIN_TOKEN),
      });
      assert.equal(revoke.status, 200);
      const revoked = await get('/api/v1/devices', bearer(token));
      assert.equal(revoked.status, 401);
      assert.match(revoked.body.error!, /revoked/);
      const last = listed.adminTokens.find((a) => a.name === 'admin')!;
      const lastRevoke = await fetch(`${url}/api/v1/admin-tokens/${last.id}/revoke`, {
        method: 'POST',
        headers: bearer(TEST_ADMIN_TOKEN),
      });
      assert.equal(lastRevoke.status, 409, 'the last active admin token cannot be revoked (nobody could log in)');

      // At rest: only digests. The store does not hold either plaintext token.
      const db = await h.bytesAtRest();
      assert.ok(db.includes(Buffer.from('ci-bot')), 'the store holds the token (by name)');
      assert.ok(
        !db.includes(Buffer.from(token)) && !db.includes(Buffer.from(TEST_ADMIN_TOKEN)),
        'admin tokens are stored hashed',
      );
    },
  );

  test(
    `artifact downloads need device credentials (HTTP Basic) or an admin token (${store})`,
    { timeout: 60_000, skip },
    async (t) => {
      const h = await startTestFleet({ store });
      t.after(() => h.close());
      const sha = (await h.server.models.get('distance', 1))!.sha256;
      const url = `${h.server.httpUrl}/api/v1/artifacts/${sha}`;
      const { username, password } = await h.enroll('dl-pi');
      const status = async (headers: Record<string, string> = {}) =>
        (await fetch(url, { headers: { range: 'bytes=0-15', ...headers } })).status;

      assert.equal(await status(), 401);
      assert.equal(await status(basic(username, `${password}x`)), 401);
      assert.equal(await status(basic('ghost', password)), 401);
      await h.server.deployments.assign('distance', 1, ['dl-pi']);
      assert.equal(
        await status(basic(username, password)),
        206,
        'an enrolled device fetches an artifact it is assigned',
      );
      assert.equal(await status(bearer(TEST_ADMIN_TOKEN)), 206);
      await fetch(`${h.server.httpUrl}/api/v1/devices/dl-pi/disable`, {
        method: 'POST',
        headers: bearer(TEST_ADMIN_TOKEN),
      });
      assert.equal(await status(basic(username, password)), 401, 'a disabled device downloads nothing');
      // Device credentials open artifacts only, not the admin API.
      await fetch(`${h.server.httpUrl}/api/v1/devices/dl-pi/enable`, {
        method: 'POST',
        headers: bearer(TEST_ADMIN_TOKEN),
      });
      assert.equal(
        (await fetch(`${h.server.httpUrl}/api/v1/devices`, { headers: basic(username, password) })).status,
        401,
      );
    },
  );
}
