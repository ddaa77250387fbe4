/**
 * The response check finds every way an answer can leave the contract (a field of the wrong
 * type, a field the contract does not declare, a status the route does not answer, an error
 * that is not `{"error"}`, a raw answer of another type), names the route and the field, and
 * replaces the answer with a 500; an answer that keeps the contract passes untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import pino from 'pino';
import { startFleetServer } from '../server.js';
import {
  contractProblem,
  findRoute,
  responseContract,
  undeclaredFields,
  type ContractViolation,
} from './response-contract.js';

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const LIVE_ERROR = { model: 'distance', version: 2, shadow: false, n: 3, mae: 1.5, rmse: 2 };

test('routes are found by method and path; a literal segment wins over a parameter', () => {
  assert.equal(findRoute('GET', '/api/v1/telemetry/error')?.name, 'liveError');
  assert.equal(findRoute('POST', '/api/v1/keys/rotate')?.name, 'rotateKeys');
  assert.equal(findRoute('POST', '/api/v1/rollouts/ro-1/pause')?.name, 'rolloutAction');
  assert.equal(findRoute('GET', '/api/v1/devices/pi-1/extra'), undefined);
  assert.equal(findRoute('DELETE', '/api/v1/devices/pi-1'), undefined);
});

test('an answer that keeps the contract passes', async () => {
  assert.equal(await contractProblem('GET', '/api/v1/telemetry/error', json({ errors: [LIVE_ERROR] })), undefined);
  assert.equal(
    await contractProblem('POST', '/api/v1/devices/pi-1/disable', json({ error: 'no device "pi-1"' }, 404)),
    undefined,
  );
  assert.equal(await contractProblem('GET', '/nowhere', json({ error: 'no route' }, 404)), undefined);
  const bytes = new Response('abc', { status: 206, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(await contractProblem('GET', `/api/v1/artifacts/${'a'.repeat(64)}`, bytes), undefined);
});

test('every way out of the contract is named: route, status and field', async () => {
  const cases: Array<[string, string, Response, RegExp]> = [
    ['GET', '/api/v1/telemetry/error', json({ errors: [{ ...LIVE_ERROR, mae: 'low' }] }), /errors\.0\.mae: /],
    [
      'GET',
      '/api/v1/telemetry/error',
      json({ errors: [{ ...LIVE_ERROR, p95: 4 }] }),
      /fields the contract does not declare: errors\.0\.p95/,
    ],
    [
      'GET',
      '/api/v1/telemetry/error',
      json({ errors: [] }, 201),
      /status 201 is not among the route's answers \(200\)/,
    ],
    [
      'GET',
      '/api/v1/telemetry/error',
      json({ error: 'gone' }, 410),
      /status 410 is not among the route's error statuses/,
    ],
    ['GET', '/api/v1/telemetry/error', json({ message: 'bad' }, 400), /error: /],
    [
      'GET',
      '/api/v1/telemetry/error',
      new Response('oops', { status: 400, headers: { 'content-type': 'text/plain' } }),
      /not JSON/,
    ],
    [
      'GET',
      '/api/v1/telemetry/error',
      new Response('{"errors": [', { headers: { 'content-type': 'application/json' } }),
      /the body is not JSON/,
    ],
    ['GET', '/metrics', json({ counters: 1 }), /content-type is "application\/json", the route answers text\/plain/],
    ['GET', '/api/v1/nothing-here', json({ ok: true }), /no GET route for this path/],
  ];
  for (const [method, path, res, problem] of cases) {
    const found = await contractProblem(method, path, res);
    assert.ok(found, `${method} ${path} ${res.status} is caught`);
    assert.match(found.problem, problem);
  }
  assert.equal(
    (await contractProblem('GET', '/api/v1/telemetry/error', json({ errors: [{ ...LIVE_ERROR, n: '3' }] })))?.route,
    'GET /api/v1/telemetry/error (liveError)',
  );
});

test('undeclaredFields walks objects and arrays, and leaves records alone', () => {
  assert.deepEqual(
    undeclaredFields({ a: 1, b: { c: 2, d: 3 }, e: [{ f: 1, g: 2 }] }, { a: 1, b: { c: 2 }, e: [{ f: 1 }] }),
    ['b.d', 'e.0.g'],
  );
  assert.deepEqual(undeclaredFields({ tags: { site: 'x' } }, { tags: { site: 'x' } }), []);
});

test('the middleware answers 500 instead of an answer outside the contract, and reports it', async () => {
  const violations: ContractViolation[] = [];
  const app = new Hono();
  app.use(
    '*',
    responseContract((v) => violations.push(v)),
  );
  app.get('/api/v1/telemetry/error', (c) =>
    c.json({ errors: [c.req.query('bad') ? { ...LIVE_ERROR, shadow: 'no' } : LIVE_ERROR] }, 200, { 'x-kept': '1' }),
  );
  const good = await app.request('/api/v1/telemetry/error');
  assert.equal(good.status, 200);
  assert.deepEqual(await good.json(), { errors: [LIVE_ERROR] });
  const bad = await app.request('/api/v1/telemetry/error?bad=1');
  assert.equal(bad.status, 500);
  assert.match(
    ((await bad.json()) as { error: string }).error,
    /^answer outside the API contract: GET \/api\/v1\/telemetry\/error \(liveError\) answered 200: errors\.0\.shadow: /,
  );
  assert.equal(violations.length, 1);
  assert.deepEqual(
    { ...violations[0], problem: undefined },
    {
      route: 'GET /api/v1/telemetry/error (liveError)',
      path: '/api/v1/telemetry/error',
      status: 200,
      problem: undefined,
    },
  );
});

test('a server started with validateResponses checks its real answers, refusals included', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-contract-'));
  const token = 'contract-test-admin-token-0123456789';
  const server = await startFleetServer(
    {
      dataDir: join(dir, 'fleet'),
      http: { port: 0 },
      mqtt: { mode: 'embedded', port: 0 },
      adminToken: token,
      validateResponses: true,
    },
    pino({ level: 'silent' }),
  );
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const calls: Array<[string, number, Record<string, string>?]> = [
    ['/api/v1/health', 200],
    ['/api/v1/openapi.json', 200],
    ['/login', 200],
    ['/api/v1/nope', 401],
    ['/api/v1/devices', 401],
    ['/api/v1/nope', 404, { authorization: `Bearer ${token}` }],
    ['/api/v1/devices', 200, { authorization: `Bearer ${token}` }],
    ['/api/v1/keys', 200, { authorization: `Bearer ${token}` }],
    ['/api/v1/telemetry?limit=0', 400, { authorization: `Bearer ${token}` }],
    ['/metrics', 200, { authorization: `Bearer ${token}` }],
  ];
  for (const [path, status, headers] of calls) {
    const res = await fetch(`${server.httpUrl}${path}`, { headers: headers ?? {} });
    assert.equal(res.status, status, `${path}: ${await res.text()}`);
  }
  assert.deepEqual(server.contractViolations, []);
});
