/**
 * The Models section's routes as the console serves them (hono, layout, actions), against a real
 * fleet server: "upload" is a page, not a model name; a version's status form posts, redirects
 * back and flashes what happened; an unknown model or version answers 404 with a way back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { startConsoleTestServer } from '../../testing/console-test-server.js';
import { INTERNAL_ORIGIN, type ConsoleEnv } from '../../session/console-session.js';
import { registerModelsPages } from './models-routes.js';

test('models routes: pages by URL, the status action posts and redirects, unknown names are 404', async (t) => {
  const { server, api } = await startConsoleTestServer(t);
  const app = new Hono<ConsoleEnv>();
  app.use('*', async (c, next) => {
    c.set('caller', {
      name: 'op',
      role: 'operator',
      csrfToken: 'csrf',
      expiresAt: Date.now() + 60_000,
      sessionId: 's',
    });
    return next();
  });
  // The pages' API calls go to the real server with the admin bearer token.
  registerModelsPages(app, (url, init) => {
    const headers = new Headers(init.headers);
    headers.delete('cookie');
    headers.set('authorization', `Bearer ${server.adminToken!}`);
    return fetch(url.replace(INTERNAL_ORIGIN, server.httpUrl), { ...init, headers });
  });

  const upload = await app.request('/models/upload');
  assert.equal(upload.status, 200);
  const uploadHtml = await upload.text();
  assert.match(uploadHtml, /<h1>Upload a model<\/h1>/);
  assert.match(uploadHtml, /src="\/console\/assets\/upload\.js[^"]*"/);

  const registry = await (await app.request('/models')).text();
  assert.match(registry, /<title>Models · EdgeLoop<\/title>/);
  assert.match(registry, /href="\/models\/distance\/versions\/1"/);

  const posted = await app.request('/models/distance/versions/1/status', {
    method: 'POST',
    body: new URLSearchParams({ status: 'deprecated', back: '/models/distance/versions/1' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(posted.status, 303);
  assert.equal(posted.headers.get('location'), '/models/distance/versions/1');
  assert.match(decodeURIComponent(posted.headers.get('set-cookie') ?? ''), /distance v1 is deprecated/);
  assert.equal((await api.getModelVersion({ params: { name: 'distance', version: 1 } })).model.status, 'deprecated');

  const revoked = await app.request('/models/distance/versions/1/status', {
    method: 'POST',
    body: new URLSearchParams({ status: 'revoked', reason: 'bad calibration' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(revoked.status, 303);
  const again = await app.request('/models/distance/versions/1/status', {
    method: 'POST',
    body: new URLSearchParams({ status: 'approved', back: '/models/distance/versions/1' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(again.status, 303);
  assert.match(decodeURIComponent(again.headers.get('set-cookie') ?? ''), /revoked, which is final/);
  const page = await (await app.request('/models/distance/versions/1')).text();
  assert.match(page, /Revoked is final/);
  assert.doesNotMatch(page, /Deploy with a rollout/);

  const missing = await app.request('/models/nope');
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /no model named &quot;nope&quot;|no model named "nope"/);
  assert.equal((await app.request('/models/nope/compare?a=1&b=2')).status, 404);
  const noVersion = await app.request('/models/distance/versions/9');
  assert.equal(noVersion.status, 404);
  const notNumber = await (await app.request('/models/distance/versions/latest')).text();
  assert.match(notNumber, /is not a version number/);
});
