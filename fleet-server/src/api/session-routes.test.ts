/**
 * The console's login over the real HTTP server: the cookie's flags, CSRF on every state-changing
 * cookie request (never on bearer requests), the session ending with logout, expiry or its
 * token's revocation, Secure behind TLS, and failed logins limited per address.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { CreatedAdminToken, SessionResponse } from '@edgeloop/protocol';
import { CSRF_HEADER, SESSION_COOKIE, SESSION_LIFETIME_MS } from '@edgeloop/protocol/rest';
import { Hono } from 'hono';
import { startFleetServer } from '../server.js';
import { sessionRoutes } from './session-routes.js';

async function server(t: TestContext, extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-sessions-api-'));
  const s = await startFleetServer(
    {
      dataDir: join(dir, 'fleet'),
      http: { port: 0 },
      mqtt: { mode: 'embedded', port: 0 },
      validateResponses: true,
      ...extra,
    },
    pino({ level: 'silent' }),
  );
  t.after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const call = async (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
    const res = await fetch(`${s.httpUrl}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
    };
  };
  return { s, call };
}

const cookieOf = (setCookie: string | null) => {
  const m = setCookie ? new RegExp(`^${SESSION_COOKIE}=([^;]*)`).exec(setCookie) : null;
  assert.ok(m, `a session cookie: ${setCookie}`);
  return { cookie: `${SESSION_COOKIE}=${m[1]}`, id: m[1]! };
};

test('sessions: login sets an HttpOnly SameSite=Strict cookie; cookie requests need the CSRF token to change anything', async (t) => {
  const { s, call } = await server(t);
  const admin = { authorization: `Bearer ${s.adminToken}` };
  const op = (await call('POST', '/api/v1/admin-tokens', admin, { name: 'console-op', role: 'operator' }))
    .body as unknown as CreatedAdminToken;

  const before = Date.now();
  const login = await call('POST', '/api/v1/sessions', {}, { token: op.token });
  assert.equal(login.status, 201, JSON.stringify(login.body));
  const session = login.body as unknown as SessionResponse;
  assert.equal(session.name, 'console-op');
  assert.equal(session.role, 'operator');
  assert.match(session.csrfToken, /^[0-9a-f]{64}$/);
  assert.ok(session.expiresAt >= before + SESSION_LIFETIME_MS && session.expiresAt <= Date.now() + SESSION_LIFETIME_MS);
  const setCookie = login.headers.get('set-cookie');
  const { cookie, id } = cookieOf(setCookie);
  assert.match(id, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(setCookie, `${SESSION_COOKIE}=${id}; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict`);
  assert.equal(login.headers.get('cache-control'), 'no-store');
  assert.ok(!JSON.stringify(login.body).includes(id), 'the session id travels in the cookie only');

  // Reads by cookie alone.
  const current = await call('GET', '/api/v1/sessions/current', { cookie });
  assert.equal(current.status, 200);
  assert.deepEqual(current.body, session);
  assert.equal((await call('GET', '/api/v1/devices', { cookie })).status, 200);

  // Changes by cookie need the CSRF header.
  await s.store.devices.ensure('pi-csrf');
  const label = { group: 'line-1' };
  const bare = await call('PUT', '/api/v1/devices/pi-csrf', { cookie }, label);
  assert.equal(bare.status, 403);
  assert.equal(bare.body.error, `missing or wrong CSRF token (header ${CSRF_HEADER}): reload the page`);
  const wrong = await call('PUT', '/api/v1/devices/pi-csrf', { cookie, [CSRF_HEADER]: 'f'.repeat(64) }, label);
  assert.equal(wrong.status, 403);
  assert.equal((await s.store.devices.get('pi-csrf'))?.group, null, 'nothing changed');
  const right = await call('PUT', '/api/v1/devices/pi-csrf', { cookie, [CSRF_HEADER]: session.csrfToken }, label);
  assert.equal(right.status, 200, JSON.stringify(right.body));
  const audited = await s.audit.list({ action: 'device.label' });
  assert.equal(audited[0]?.actor, 'console-op', 'the audit log names the token behind the session');

  // The role still applies to a session.
  const rotate = await call('POST', '/api/v1/keys/rotate', { cookie, [CSRF_HEADER]: session.csrfToken });
  assert.equal(rotate.status, 403);
  assert.match(String(rotate.body.error), /needs the admin role; the token "console-op" is an operator/);

  // Bearer requests need no CSRF token, and have no session.
  assert.equal((await call('PUT', '/api/v1/devices/pi-csrf', admin, { group: 'line-2' })).status, 200);
  const noSession = await call('GET', '/api/v1/sessions/current', admin);
  assert.equal(noSession.status, 404);
  assert.match(String(noSession.body.error), /no console session.*POST \/api\/v1\/sessions/);

  // Logout: 204, an expiring cookie, and the cookie is no longer accepted.
  assert.equal((await call('DELETE', '/api/v1/sessions/current', { cookie })).status, 403, 'logout needs CSRF too');
  const logout = await call('DELETE', '/api/v1/sessions/current', { cookie, [CSRF_HEADER]: session.csrfToken });
  assert.equal(logout.status, 204);
  assert.equal(logout.headers.get('set-cookie'), `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`);
  const after = await call('GET', '/api/v1/devices', { cookie });
  assert.equal(after.status, 401);
  assert.match(String(after.body.error), /console session ended.*log in again/);
  const actions = (await s.audit.list({ actor: 'console-op' })).map((e) => e.action);
  assert.ok(actions.includes('session.login') && actions.includes('session.logout'), actions.join());
  assert.deepEqual(s.contractViolations, []);
});

test('sessions: a bad token is refused with a reason; a revoked token or an expired session ends access', async (t) => {
  const { s, call } = await server(t);
  const admin = { authorization: `Bearer ${s.adminToken}` };
  const bad = await call('POST', '/api/v1/sessions', {}, { token: 'ela_not-a-token' });
  assert.equal(bad.status, 401);
  assert.match(String(bad.body.error), /admin token not recognised/);
  assert.equal(bad.headers.get('set-cookie'), null);
  assert.equal((await call('POST', '/api/v1/sessions', {}, {})).status, 400);

  const viewer = (await call('POST', '/api/v1/admin-tokens', admin, { name: 'auditor', role: 'viewer' }))
    .body as unknown as CreatedAdminToken;
  const login = await call('POST', '/api/v1/sessions', {}, { token: viewer.token });
  const { cookie } = cookieOf(login.headers.get('set-cookie'));
  const csrf = (login.body as unknown as SessionResponse).csrfToken;
  assert.equal((await call('GET', '/api/v1/audit', { cookie })).status, 200);
  const create = await call('POST', '/api/v1/enrollment-tokens', { cookie, [CSRF_HEADER]: csrf });
  assert.equal(create.status, 403);
  assert.match(String(create.body.error), /needs the admin role; the token "auditor" is a viewer/);

  assert.equal((await call('POST', `/api/v1/admin-tokens/${viewer.adminToken.id}/revoke`, admin)).status, 200);
  assert.equal((await call('GET', '/api/v1/audit', { cookie })).status, 401, 'revoking the token ended its session');

  // An expired session (opened 12 h ago) is refused.
  const ops = (await call('POST', '/api/v1/admin-tokens', admin, { name: 'night-shift', role: 'operator' }))
    .body as unknown as CreatedAdminToken;
  const stale = await s.identity.consoleSessions.create(ops.token, Date.now() - SESSION_LIFETIME_MS);
  assert.ok(stale.ok);
  const expired = await call('GET', '/api/v1/devices', { cookie: `${SESSION_COOKIE}=${stale.sessionId}` });
  assert.equal(expired.status, 401);
  assert.match(String(expired.body.error), /console session ended/);
  // A bearer token wins over a cookie: no CSRF token is needed then.
  const both = await call('POST', '/api/v1/enrollment-tokens', {
    cookie: `${SESSION_COOKIE}=${stale.sessionId}`,
    ...admin,
  });
  assert.equal(both.status, 201);
  assert.deepEqual(s.contractViolations, []);
});

test('sessions: failed logins are limited per address', async (t) => {
  const { s, call } = await server(t);
  for (let i = 0; i < 10; i++)
    assert.equal((await call('POST', '/api/v1/sessions', {}, { token: `ela_wrong-${i}` })).status, 401);
  const limited = await call('POST', '/api/v1/sessions', {}, { token: s.adminToken });
  assert.equal(limited.status, 429);
  assert.match(String(limited.body.error), /too many failed logins from this address; try again in \d+ s/);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  assert.equal((await call('GET', '/api/v1/devices', { authorization: `Bearer ${s.adminToken}` })).status, 200);
  assert.deepEqual(s.contractViolations, []);
});

test('sessions: the cookie is Secure when the server is reached over TLS (here: an https public URL)', async (t) => {
  const { s, call } = await server(t, { publicUrl: 'https://fleet.example.com' });
  const login = await call('POST', '/api/v1/sessions', {}, { token: s.adminToken });
  assert.equal(login.status, 201);
  assert.match(login.headers.get('set-cookie')!, /; HttpOnly; SameSite=Strict; Secure$/);
});

test('sessions: an in-process login without the caller’s address is not limited (one shared bucket would lock everyone out)', async (t) => {
  const { s } = await server(t);
  // The routes alone, called as the console calls the API: app.request, no socket.
  const api = new Hono().route('/api/v1', sessionRoutes({ identity: s.identity, audit: s.audit }));
  const login = (token: string, env?: unknown) =>
    api.request(
      '/api/v1/sessions',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) },
      env,
    );
  for (let i = 0; i < 12; i++) assert.equal((await login(`ela_wrong-${i}`)).status, 401);
  assert.equal((await login(s.adminToken!)).status, 201);
  // With the original request's env passed along, the socket's address is limited as over HTTP.
  const env = { incoming: { socket: { remoteAddress: '198.51.100.7' } } };
  for (let i = 0; i < 10; i++) assert.equal((await login(`ela_wrong-${i}`, env)).status, 401);
  assert.equal((await login(s.adminToken!, env)).status, 429);
  assert.equal((await login(s.adminToken!)).status, 201, 'other callers are not affected');
});

test('sessions: the console’s form login gets the API’s cookie, its pages open with it, and its logout ends it', async (t) => {
  const { s, call } = await server(t);
  const form = (body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${s.httpUrl}${body.token !== undefined ? '/login' : '/logout'}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(body).toString(),
    });
  const refused = await form({ token: 'ela_wrong', next: '/' });
  assert.equal(refused.status, 401);
  assert.match(await refused.text(), /admin token not recognised/);
  const login = await form({ token: s.adminToken!, next: '/' });
  assert.equal(login.status, 303);
  const setCookie = login.headers.get('set-cookie');
  assert.match(setCookie!, /^edgeloop_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
  const { cookie } = cookieOf(setCookie);
  const page = await fetch(`${s.httpUrl}/`, { headers: { cookie, accept: 'text/html' } });
  assert.equal(page.status, 200);
  const csrf = /<meta name="csrf-token" content="([0-9a-f]{64})"/.exec(await page.text())?.[1];
  assert.ok(csrf, 'the page carries the session’s CSRF token');
  assert.equal((await call('GET', '/api/v1/sessions/current', { cookie })).body.csrfToken, csrf);
  const logout = await form({ _csrf: csrf }, { cookie });
  assert.equal(logout.status, 303);
  assert.match(logout.headers.get('set-cookie')!, /^edgeloop_session=; Path=\/; Max-Age=0;/);
  assert.equal((await call('GET', '/api/v1/devices', { cookie })).status, 401);
});
