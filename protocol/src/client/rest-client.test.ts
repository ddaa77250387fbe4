/**
 * The typed client against a real HTTP server: what it sends (method, path, query, JSON and
 * multipart bodies, headers) and what it makes of the answers (validated results, the server's
 * refusal, an answer outside the contract named by route and field, no answer at all).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRestClient, fillPath, queryString } from './rest-client.js';
import { RestContractError, RestError, RestNetworkError } from './client-errors.js';
import { REST_ROUTES } from '../rest/routes.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

const ASSIGNMENT = { model: 'distance', version: 3, state: 'active', code: null, reason: null, updatedAt: 1 };
const DEVICE = {
  id: 'pi-1',
  online: true,
  lastSeen: 5,
  firstSeen: 1,
  session: 2,
  agentVersion: '0.1.0',
  arch: 'arm64',
  platform: 'linux',
  hardware: null,
  runtime: null,
  stream: 's1',
  models: [{ name: 'distance', version: 3, sha256: 'ab' }],
  assignments: [ASSIGNMENT],
  backlog: 0,
  dropped: 0,
  records: 9,
  bytesSent: 0,
  shadows: [],
  group: null,
  tags: {},
  disabled: false,
  openAlerts: 0,
};

let seen: Seen[] = [];
let answer: (s: Seen) => { status: number; body: string; type?: string } = () => ({ status: 200, body: '{}' });
let baseUrl = '';
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
    seen.push(s);
    const a = answer(s);
    res.writeHead(a.status, { 'content-type': a.type ?? 'application/json' }).end(a.body);
  });
});
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
const reply = (status: number, body: unknown, type?: string) => () => ({
  status,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  ...(type ? { type } : {}),
});

test("a call sends the route's method, path, query and headers and returns the validated answer", async () => {
  seen = [];
  answer = reply(200, { devices: [DEVICE], total: 1, nextCursor: null });
  const client = createRestClient({ baseUrl, headers: { authorization: 'Bearer t' } });
  assert.equal(client.baseUrl, baseUrl.replace(/\/$/, ''));
  const { devices } = await client.listDevices({
    query: { group: 'site-a', tag: ['hw=pi4', 'site=b'], disabled: false },
  });
  assert.deepEqual(devices, [DEVICE]);
  assert.equal(seen[0]!.method, 'GET');
  assert.equal(seen[0]!.url, '/api/v1/devices?group=site-a&tag=hw%3Dpi4&tag=site%3Db&disabled=false');
  assert.equal(seen[0]!.headers.authorization, 'Bearer t');

  answer = reply(200, { errors: [] });
  await client.liveError({ query: { model: 'distance', version: 2, shadow: true, device: undefined } });
  assert.equal(seen[1]!.url, '/api/v1/telemetry/error?model=distance&version=2&shadow=true');
});

test("what the client writes into a query, the server's schema reads back as the same values", () => {
  const values = { device: 'pi-1', version: 12, afterId: 0, limit: 500, order: 'oldest' as const, shadow: false };
  const search = new URLSearchParams(queryString(values));
  assert.deepEqual(REST_ROUTES.listTelemetry.query.parse(Object.fromEntries(search)), values);
  assert.deepEqual(
    REST_ROUTES.listDevices.query.parse({
      tag: new URLSearchParams(queryString({ tag: ['a=1', 'b=2'] })).getAll('tag'),
    }),
    { tag: ['a=1', 'b=2'] },
  );
});

test('path parameters are encoded; a missing one is a programming error, not a request', () => {
  assert.equal(
    fillPath('/api/v1/models/{name}/versions/{version}', { name: 'a b/c', version: 3 }),
    '/api/v1/models/a%20b%2Fc/versions/3',
  );
  assert.throws(
    () => fillPath('/api/v1/devices/{id}', {}),
    /path parameter "id" of \/api\/v1\/devices\/\{id\} is missing/,
  );
});

test('JSON and multipart bodies', async () => {
  seen = [];
  const client = createRestClient({ baseUrl });
  answer = reply(200, { deployment: { model: 'distance', version: 3, devices: ['pi-1'] } });
  await client.deploy({ body: { model: 'distance', version: 3, devices: ['pi-1'] } });
  assert.match(String(seen[0]!.headers['content-type']), /^application\/json/);
  assert.deepEqual(JSON.parse(seen[0]!.body.toString('utf8')), { model: 'distance', version: 3, devices: ['pi-1'] });

  answer = reply(409, { error: 'model distance v3 already exists' });
  const upload = client.pushModel({
    body: {
      file: new File([new Uint8Array([1, 2, 3])], 'distance.onnx'),
      name: 'distance',
      version: '3',
      force: 'true',
    },
  });
  await assert.rejects(
    upload,
    (e: unknown) =>
      e instanceof RestError && e.status === 409 && e.message === 'model distance v3 already exists (HTTP 409)',
  );
  const form = await new Response(new Uint8Array(seen[1]!.body), {
    headers: { 'content-type': String(seen[1]!.headers['content-type']) },
  }).formData();
  assert.equal((form.get('file') as File).name, 'distance.onnx');
  assert.deepEqual([...new Uint8Array(await (form.get('file') as File).arrayBuffer())], [1, 2, 3]);
  assert.deepEqual(
    [form.get('name'), form.get('version'), form.get('force'), form.get('metadata')],
    ['distance', '3', 'true', null],
  );
});

test('an answer outside the contract is an error naming the route and the field', async () => {
  const client = createRestClient({ baseUrl });
  answer = reply(200, { devices: [{ ...DEVICE, online: 'yes' }], total: 1, nextCursor: null });
  await assert.rejects(client.listDevices(), (e: unknown) => {
    assert.ok(e instanceof RestContractError);
    assert.equal(e.kind, 'schema');
    assert.match(
      e.message,
      /^GET \/api\/v1\/devices \(listDevices\) answered 200 outside the API contract: devices\.0\.online: /,
    );
    return true;
  });
  answer = reply(200, '<html>a login page</html>', 'text/html');
  await assert.rejects(client.listModels(), (e: unknown) => e instanceof RestContractError && e.kind === 'not-json');
  answer = reply(204, '');
  await assert.rejects(
    client.getKeys(),
    (e: unknown) =>
      e instanceof RestContractError &&
      e.kind === 'status' &&
      /status 204 is not one the route answers \(200\)/.test(e.problem),
  );
});

test('raw answers come back as the Response; a refusal of a raw route is still a RestError', async () => {
  const client = createRestClient({ baseUrl });
  answer = reply(206, 'abc', 'application/octet-stream');
  const res = await client.downloadArtifact({ params: { sha256: 'a'.repeat(64) } });
  assert.equal(res.status, 206);
  assert.equal(await res.text(), 'abc');
  answer = reply(403, { error: 'not assigned to this device' });
  await assert.rejects(
    client.downloadArtifact({ params: { sha256: 'a'.repeat(64) } }),
    (e: unknown) => e instanceof RestError && e.reason === 'not assigned to this device',
  );
});

test('no answer: a RestNetworkError with the fetch failure as its cause; the fetch is injectable', async () => {
  const refused = createRestClient({ baseUrl: 'http://127.0.0.1:1' });
  await assert.rejects(
    refused.health(),
    (e: unknown) =>
      e instanceof RestNetworkError &&
      /GET \/api\/v1\/health \(health\): no answer/.test(e.message) &&
      e.cause instanceof Error,
  );

  const calls: string[] = [];
  const injected = createRestClient({
    baseUrl: 'https://fleet.example',
    fetch: async (url, init) => {
      calls.push(`${init.method} ${url}`);
      return new Response(
        JSON.stringify({ status: 'ok', version: '1', mqttUrl: 'mqtt://x', keyId: 'k', publicKey: 'p' }),
        { headers: { 'content-type': 'application/json' } },
      );
    },
  });
  assert.equal((await injected.health()).status, 'ok');
  assert.deepEqual(calls, ['GET https://fleet.example/api/v1/health']);

  const slow = createRestClient({
    baseUrl,
    timeoutMs: 50,
    fetch: (_url, init) =>
      new Promise((_resolve, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason))),
  });
  await assert.rejects(
    slow.health(),
    (e: unknown) => e instanceof RestNetworkError && (e.cause as Error).name === 'TimeoutError',
  );
});
