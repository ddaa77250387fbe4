/**
 * The route table (protocol/src/rest/routes.ts) is the API: every route the Hono app registers
 * (method + path) is in it, and it lists no route that does not exist. The OpenAPI document made
 * from it is well-formed enough for tools (3.1, every $ref resolves, unique operationIds, security
 * schemes defined), carries the contract's schemas, and is served without a token.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type RouteSpec } from '@edgeloop/protocol';
import { REST_ROUTES } from '@edgeloop/protocol/rest';
import { startFleetServer } from '../server.js';
import { createFleetApi } from './app.js';
import { buildOpenApiDocument } from './openapi.js';

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { operationId: string; security: unknown[]; responses: Record<string, unknown> }>
  >;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

/**
 * Dependencies that accept anything: route modules only store them at registration, so the app
 * registers every route (optional ones included) without a database behind it.
 */
function anything(): unknown {
  const fn = () => undefined;
  return new Proxy(fn, {
    get: (_t, key) => (key === Symbol.toPrimitive ? () => 'stub' : key === 'then' ? undefined : anything()),
    apply: () => anything(),
  });
}

/** `/api/v1/models/:name{[a-z]+}` → `/api/v1/models/{name}` */
function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, '{$1}').replace(/\/$/, '') || '/';
}

function registeredRoutes(): Set<string> {
  const app = createFleetApi(anything() as Parameters<typeof createFleetApi>[0]);
  const routes = new Set<string>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue; // middleware (auth, body limit)
    routes.add(`${r.method.toLowerCase()} ${openApiPath(r.path)}`);
  }
  return routes;
}

function documentedRoutes(doc: Doc): Set<string> {
  const out = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths))
    for (const method of Object.keys(ops)) out.add(`${method} ${path}`);
  return out;
}

test('every registered route is in the route table, and every route of the table exists', () => {
  const registered = registeredRoutes();
  const table = new Set((Object.values(REST_ROUTES) as RouteSpec[]).map((r) => `${r.method.toLowerCase()} ${r.path}`));
  assert.ok(registered.size > 10, `walked the app's routes (${registered.size})`);
  const missing = [...registered].filter((r) => !table.has(r)).sort();
  const extra = [...table].filter((r) => !registered.has(r)).sort();
  assert.deepEqual(missing, [], `routes missing from protocol/src/rest/routes.ts:\n  ${missing.join('\n  ')}`);
  assert.deepEqual(extra, [], `the route table lists routes the app does not have:\n  ${extra.join('\n  ')}`);
  assert.deepEqual(
    documentedRoutes(buildOpenApiDocument('test') as Doc),
    table,
    "the document has exactly the table's routes",
  );
});

test('the document carries the contract: component schemas, parameters typed as the server parses them, request sides named apart', () => {
  const doc = buildOpenApiDocument('test') as Doc & {
    paths: Record<
      string,
      Record<string, { parameters?: Array<{ name: string; required: boolean; schema: Record<string, unknown> }> }>
    >;
  };
  const schemas = doc.components.schemas as Record<
    string,
    { properties?: Record<string, unknown>; required?: string[]; additionalProperties?: unknown }
  >;
  for (const name of [
    'Device',
    'ModelVersion',
    'TelemetryRow',
    'RolloutDetail',
    'Health',
    'Error',
    'CreateRollout',
    'ModelMetadata',
  ])
    assert.ok(schemas[name], `component ${name}`);
  assert.deepEqual(
    Object.keys(schemas.Device!.properties!).sort(),
    Object.keys(REST_ROUTES.listDevices.responses[200].shape.devices.element.shape).sort(),
  );
  assert.equal(schemas.Device!.additionalProperties, undefined, 'answers may grow');
  // Defaults: optional when sent, always present in an answer, so the two sides are two components.
  assert.ok(!schemas.RolloutParametersInput!.required?.includes('successThreshold'));
  assert.ok(schemas.RolloutParameters!.required?.includes('successThreshold'));
  const telemetry = doc.paths['/api/v1/telemetry']!.get!.parameters!;
  assert.deepEqual(telemetry.find((p) => p.name === 'limit')!.schema, { type: 'integer', minimum: 1, maximum: 10_000 });
  assert.deepEqual(telemetry.find((p) => p.name === 'shadow')!.schema, { type: 'boolean' });
  assert.equal(doc.paths['/api/v1/telemetry/error']!.get!.parameters!.find((p) => p.name === 'model')!.required, true);
});

test('the document is well-formed: 3.1, resolvable $refs, unique operation ids, defined security schemes', () => {
  const doc = buildOpenApiDocument('test') as Doc;
  assert.equal(doc.openapi, '3.1.0');
  const text = JSON.stringify(doc);
  for (const [, name] of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
    assert.ok(name! in doc.components.schemas, `$ref to missing schema ${name}`);
  }
  assert.doesNotMatch(text, /"\$ref":"(?!#\/components\/schemas\/)/, 'only component refs');
  const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
  assert.equal(
    new Set(ids).size,
    ids.length,
    `duplicate operationIds: ${ids.filter((x, i) => ids.indexOf(x) !== i).join(', ')}`,
  );
  assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['admin', 'device', 'session']);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      for (const s of op.security as Array<Record<string, unknown>>)
        for (const k of Object.keys(s))
          assert.ok(k in doc.components.securitySchemes, `${method} ${path}: unknown scheme ${k}`);
      assert.ok(
        Object.keys(op.responses).some((s) => s.startsWith('2')),
        `${method} ${path} has a success response`,
      );
    }
  }
  // Spot checks of the security model the auth middleware implements.
  assert.deepEqual(doc.paths['/api/v1/enroll']!.post!.security, []);
  assert.deepEqual(doc.paths['/api/v1/devices']!.get!.security, [{ admin: [] }, { session: [] }]);
  assert.deepEqual(doc.paths['/api/v1/artifacts/{sha256}']!.get!.security, [
    { device: [] },
    { admin: [] },
    { session: [] },
  ]);
  assert.deepEqual(doc.paths['/api/v1/sessions']!.post!.security, []);
});

test('every non-public operation names the least role it needs, and may answer 403', () => {
  const doc = buildOpenApiDocument('test') as Doc;
  const op = (path: string, method: string) =>
    doc.paths[path]![method] as unknown as { 'x-edgeloop-role'?: string; description?: string; security: unknown[] };
  const roleOf = (path: string, method: string) => op(path, method)['x-edgeloop-role'];
  assert.equal(roleOf('/api/v1/devices', 'get'), 'viewer');
  assert.equal(roleOf('/api/v1/rollouts', 'post'), 'operator');
  assert.equal(roleOf('/api/v1/keys/rotate', 'post'), 'admin');
  assert.equal(roleOf('/api/v1/admin-tokens', 'post'), 'admin');
  assert.equal(roleOf('/api/v1/devices/{id}/disable', 'post'), 'admin');
  assert.equal(roleOf('/api/v1/sessions/current', 'delete'), 'viewer', 'a viewer may log out');
  assert.equal(roleOf('/api/v1/enroll', 'post'), undefined, 'public routes need no role');
  assert.match(op('/api/v1/rollouts', 'post').description!, /operator role or higher/);
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, o] of Object.entries(ops)) {
      if (o.security.length === 0) continue;
      assert.ok(['viewer', 'operator', 'admin'].includes(roleOf(path, method)!), `${method} ${path} names a role`);
      assert.ok('403' in o.responses, `${method} ${path} documents 403`);
    }
});

test('GET /api/v1/openapi.json is served without a token', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-openapi-'));
  const server = await startFleetServer(
    { dataDir: join(dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded', port: 0 }, validateResponses: true },
    pino({ level: 'silent' }),
  );
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const res = await fetch(`${server.httpUrl}/api/v1/openapi.json`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as Doc & { info: { version: string } };
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.info.version.length > 0);
  assert.deepEqual(documentedRoutes(doc), documentedRoutes(buildOpenApiDocument('x') as Doc));
  assert.equal((await fetch(`${server.httpUrl}/api/v1/devices`)).status, 401, 'other routes still need a token');
});
