/**
 * @module console/testing/console-test-server
 * A real fleet server in a temp directory for console page tests: free ports, the sample model
 * "distance" v1 registered, a bearer REST client, removed after the test.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import type { RestClient } from '@edgeloop/protocol/client';
import type { RunningFleetServer } from '../../running-server.js';
import { startFleetServer } from '../../server.js';
import { bearerClient } from './render-page.js';

export interface ConsoleTestServer {
  server: RunningFleetServer;
  api: RestClient;
  dir: string;
}

export async function startConsoleTestServer(t: {
  after: (fn: () => Promise<void>) => void;
}): Promise<ConsoleTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-console-'));
  const server = await startFleetServer(
    { dataDir: join(dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded', port: 0 }, validateResponses: true },
    pino({ level: 'silent' }),
  );
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await server.registry.register({
    name: 'distance',
    bytes: readFileSync(SAMPLE_MODELS.v1),
    metadata: JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')),
  });
  return { server, api: bearerClient(server.httpUrl, server.adminToken!), dir };
}
