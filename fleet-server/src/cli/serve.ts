/**
 * @module cli/serve
 * `edgeloop serve`: runs the fleet server in the foreground until Ctrl-C. Writes
 * `<data>/server.json` (and `./.edgeloop/server.json` for the default data dir) so the other CLI
 * commands find the server without flags.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_HTTP_PORT, DEFAULT_MQTT_PORT, type FleetConfigInput } from '../config.js';
import { startFleetServer } from '../server.js';

export const DEFAULT_DATA_DIR = '.edgeloop/fleet';

export const SERVE_USAGE = `usage: edgeloop serve [options]
  --data DIR           state directory (default ${DEFAULT_DATA_DIR})
  --http-host HOST     REST API / status page address (default 127.0.0.1)
  --http-port PORT     (default ${DEFAULT_HTTP_PORT}; 0 = any free port)
  --mqtt-host HOST     embedded broker address (default 127.0.0.1)
  --mqtt-port PORT     embedded broker port (default ${DEFAULT_MQTT_PORT}; 0 = any free port)
  --mqtt-url URL       use an existing broker instead of the embedded one
  --mqtt-username U, --mqtt-password P   credentials for --mqtt-url
  --public-url URL     base URL devices download artifacts from (default: the HTTP address)
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (default info)
  --json               print one JSON line {"event":"ready",...} on stdout when ready`;

export function writeServerInfo(dataDir: string, info: Record<string, unknown>, alsoCwd: boolean): void {
  const text = `${JSON.stringify(info, null, 2)}\n`;
  writeFileSync(join(dataDir, 'server.json'), text);
  if (alsoCwd) {
    mkdirSync('.edgeloop', { recursive: true });
    writeFileSync(join('.edgeloop', 'server.json'), text);
  }
}

export async function runServe(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' }, 'http-host': { type: 'string' }, 'http-port': { type: 'string' },
        'mqtt-host': { type: 'string' }, 'mqtt-port': { type: 'string' }, 'mqtt-url': { type: 'string' },
        'mqtt-username': { type: 'string' }, 'mqtt-password': { type: 'string' }, 'public-url': { type: 'string' },
        'log-level': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n${SERVE_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  const port = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number 0-65535, got "${v}"`);
    return n;
  };
  const dataDir = resolve(values.data ?? DEFAULT_DATA_DIR);
  let config: FleetConfigInput;
  try {
    config = {
      dataDir,
      http: { ...(values['http-host'] ? { host: values['http-host'] } : {}), ...(values['http-port'] ? { port: port(values['http-port'], 'http-port') } : {}) },
      mqtt: values['mqtt-url']
        ? { mode: 'external', url: values['mqtt-url'], ...(values['mqtt-username'] ? { username: values['mqtt-username'] } : {}), ...(values['mqtt-password'] ? { password: values['mqtt-password'] } : {}) }
        : { mode: 'embedded', ...(values['mqtt-host'] ? { host: values['mqtt-host'] } : {}), ...(values['mqtt-port'] ? { port: port(values['mqtt-port'], 'mqtt-port') } : {}) },
      ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
      ...(values['log-level'] ? { log: { level: values['log-level'] as 'info' } } : {}),
    };
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 2;
  }

  let server;
  try {
    server = await startFleetServer(config);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
  const info = { httpUrl: server.httpUrl, mqttUrl: server.mqttUrl, publicKey: server.publicKey, keyId: server.keyId, pid: process.pid };
  writeServerInfo(dataDir, info, values.data === undefined);
  if (values.json) console.log(JSON.stringify({ event: 'ready', ...info }));
  else {
    console.error(`\nEdgeLoop fleet server\n  status page   ${server.httpUrl}/\n  REST API      ${server.httpUrl}/api/v1\n  MQTT broker   ${server.mqttUrl}\n  signing key   ${server.keyId} (public: ${server.publicKey})\nCtrl-C to stop.\n`);
  }

  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
