/**
 * @module cli
 * `edgeloop-agent`: init (write a config), run (serve until SIGINT/SIGTERM). enroll/status/models
 * come with the production agent (issue #3).
 */
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadAgentConfig, parseAgentConfig } from './config.js';
import { startAgent } from './agent.js';

export const USAGE = `usage: edgeloop-agent <command> [options]
  init --device-id ID --mqtt-url URL --trusted-key KEY [--data DIR] [--config FILE] [--api-port PORT]
                                        write a validated config file (default ./edgeloop-agent.json)
  run [--config FILE] [--json]         run the agent until Ctrl-C / SIGTERM
Environment overrides: EDGELOOP_DEVICE_ID, EDGELOOP_MQTT_URL, EDGELOOP_DATA_DIR, EDGELOOP_API_PORT, EDGELOOP_LOG_LEVEL`;

const DEFAULT_CONFIG = 'edgeloop-agent.json';

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  try {
    if (command === 'init') return init(rest);
    if (command === 'run') return await run(rest);
  } catch (err) {
    if (err instanceof ConfigError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`error: ${(err as Error).message}`);
      return 2;
    }
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
  console.error(`error: unknown command "${command}"\n${USAGE}`);
  return 2;
}

function init(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      'device-id': { type: 'string' }, 'mqtt-url': { type: 'string' }, 'trusted-key': { type: 'string', multiple: true },
      data: { type: 'string' }, config: { type: 'string' }, 'api-port': { type: 'string' }, force: { type: 'boolean' },
    },
  });
  const path = resolve(values.config ?? DEFAULT_CONFIG);
  if (existsSync(path) && !values.force) throw new ConfigError(`${path} exists; pass --force to overwrite it`);
  const config = parseAgentConfig(
    {
      deviceId: values['device-id'],
      dataDir: resolve(values.data ?? 'edgeloop-agent-data'),
      api: values['api-port'] ? { port: Number(values['api-port']) } : {},
      fleet: { mqttUrl: values['mqtt-url'], trustedKeys: values['trusted-key'] ?? [] },
    },
    'the init options',
  );
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  console.log(`wrote ${path}; start the agent with: edgeloop-agent run --config ${path}`);
  return 0;
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, json: { type: 'boolean' } } });
  const config = loadAgentConfig(resolve(values.config ?? DEFAULT_CONFIG));
  const agent = await startAgent(config);
  if (values.json) console.log(JSON.stringify({ event: 'ready', deviceId: agent.deviceId, apiUrl: agent.apiUrl, stream: agent.stream }));
  else console.error(`EdgeLoop agent ${agent.deviceId}: local API ${agent.apiUrl} — Ctrl-C to stop`);
  await new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
  await agent.close();
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
