/**
 * @module support/tls
 * Fleet servers with TLS for tests: an in-process server with a lab CA (`--tls-self-signed`)
 * made at run time in the test's temp dir (nothing committed), and a log sink to assert on
 * what an agent said about a certificate it refused.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { startFleetServer, type RunningFleetServer } from '@edgeloop/fleet-server';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import { TEST_ADMIN_TOKEN, TEST_MQTT_SERVER } from './fleet-client.js';

/** `ports` pins the listeners (a restart on the same addresses); default any free port. */
export async function startTlsFleet(
  dataDir: string,
  ports: { http?: number; mqtt?: number } = {},
  log: Logger = pino({ level: 'silent' }),
): Promise<RunningFleetServer & { tls: NonNullable<RunningFleetServer['tls']> }> {
  const server = await startFleetServer(
    {
      dataDir,
      http: { port: ports.http ?? 0 },
      mqtt: { mode: 'embedded', port: ports.mqtt ?? 0, serverPassword: TEST_MQTT_SERVER.password },
      adminToken: TEST_ADMIN_TOKEN,
      validateResponses: true,
      tls: { mode: 'self-signed' },
    },
    log,
  );
  if (!server.tls) throw new Error('the fleet server started without TLS');
  if (!(await server.models.get('distance', 1))) {
    await server.registry.register({
      name: 'distance',
      bytes: readFileSync(SAMPLE_MODELS.v1),
      metadata: JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')),
    });
  }
  return server as RunningFleetServer & { tls: NonNullable<RunningFleetServer['tls']> };
}

/** A pino logger whose lines are kept in memory (`text()`), at `level`. */
export function memoryLogger(level = 'info'): { log: Logger; text(): string } {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  return { log: pino({ level }, sink), text: () => out };
}
