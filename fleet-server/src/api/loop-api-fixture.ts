/**
 * @module api/loop-api-fixture
 * Test support: the loop routes on a real SQLite store with a recording stand-in for the loop
 * engine (it starts and cancels runs in the store as the engine would, and remembers what it was
 * asked), every answer checked against the REST contract; served over HTTP for the CLI's tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { LoopRun } from '@edgeloop/protocol/rest';
import { AuditLog } from '../audit/audit-log.js';
import type { LoopControl } from '../loop/loop-control.js';
import { RegistryError } from '../registry/model-registry.js';
import type { FleetStore } from '../store/fleet-store.js';
import { openFleetStore } from '../store/open-fleet-store.js';
import { modelVersion } from '../store/store-suite/fixtures.js';
import { loopRun } from '../store/store-suite/loop-contract.js';
import type { ApiEnv } from './api-env.js';
import { loopRoutes } from './loop-routes.js';
import { responseContract, type ContractViolation } from './response-contract.js';

export interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: string };
}

/** Starts runs in the store as the engine would and records what it was asked. */
export class RecordingLoop implements LoopControl {
  readonly calls: unknown[] = [];
  private n = 0;
  constructor(private readonly store: FleetStore) {}

  async trigger(model: string, req: { reason?: string; force: boolean }, actor: string): Promise<LoopRun> {
    this.calls.push(['trigger', model, req, actor]);
    if (!(await this.store.loop.getPolicy(model))) throw new RegistryError(404, `no loop policy for ${model}`);
    const run = loopRun(`lr-${(++this.n).toString(16).padStart(10, 'f')}`, model, Date.now(), {
      trigger: { ...loopRun('x', model, 0).trigger, kind: 'manual', actor, reason: req.reason ?? null },
    });
    if (!(await this.store.loop.startRun(run))) throw new RegistryError(409, `a run of ${model} is running`);
    return run;
  }

  async cancel(id: string, reason: string | undefined, actor: string): Promise<LoopRun> {
    this.calls.push(['cancel', id, reason, actor]);
    const run = await this.store.loop.getRun(id);
    if (!run) throw new RegistryError(404, `no loop run ${id}`);
    if (run.state !== 'running') throw new RegistryError(409, `loop run ${id} is ${run.state}`);
    const cancelled: LoopRun = { ...run, state: 'cancelled', reason: reason ?? 'cancelled', finishedAt: Date.now() };
    await this.store.loop.updateRun(cancelled);
    return cancelled;
  }
}

/**
 * A fresh store with models `distance` and `speed` registered, the loop routes over it (the
 * caller is `ops`), and `api` to call them in-process; `serve()` puts them on an HTTP port.
 */
export async function loopApi(t: { after(fn: () => Promise<void>): void }, withEngine = true) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-loop-routes-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const audit = new AuditLog(store);
  const loop = withEngine ? new RecordingLoop(store) : undefined;
  const violations: ContractViolation[] = [];
  const app = new Hono<ApiEnv>();
  app.use(
    '*',
    responseContract((v) => violations.push(v)),
  );
  app.use('*', async (c, next) => {
    c.set('actor', 'ops');
    await next();
  });
  app.route('/api/v1', loopRoutes({ store, audit, loop }));
  app.onError((err, c) =>
    err instanceof RegistryError ? c.json({ error: err.message }, err.status) : c.json({ error: err.message }, 500),
  );
  const api = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await app.request(`/api/v1${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  };
  await store.models.insert(modelVersion('distance', 1));
  await store.models.insert(modelVersion('speed', 1));
  /** The routes on 127.0.0.1 at a free port (closed after the test); the base URL of the server. */
  const serveHttp = async (): Promise<string> => {
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  return { store, audit, loop, api, violations, serve: serveHttp };
}
