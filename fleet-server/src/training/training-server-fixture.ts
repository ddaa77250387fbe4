/**
 * @module training/training-server-fixture
 * Test support: a real fleet server (SQLite, embedded broker, answers checked against the REST
 * contract) with the fixture trainer configured and a generated dataset from three devices.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startFleetServer } from '../server.js';
import { FIXTURE_TRAINER, FolderDatasets } from './training-fixtures.js';

export const TOKEN = 'training-routes-test-admin-token';

export async function trainingServer(t: { after(fn: () => Promise<void>): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-training-api-'));
  const datasets = new FolderDatasets();
  const ds = await datasets.add(join(dir, 'ds'), { devices: ['sim-1', 'sim-2', 'sim-3'] });
  const server = await startFleetServer(
    {
      dataDir: join(dir, 'fleet'),
      http: { port: 0 },
      mqtt: { mode: 'embedded', port: 0 },
      adminToken: TOKEN,
      validateResponses: true,
      training: { trainers: { fixture: [...FIXTURE_TRAINER.command] } },
    },
    pino({ level: 'silent' }),
    { datasets },
  );
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.httpUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: string } };
  };
  return { server, ds, api, token: TOKEN, dir };
}
