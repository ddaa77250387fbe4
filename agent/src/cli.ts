/**
 * @module cli
 * `edgeloop-agent`: enroll (trade a fleet token for credentials and write the config), init
 * (write a config by hand), run (serve until SIGINT/SIGTERM), status and models (ask the running
 * agent through its local API).
 *
 * Exit codes: 0 success, 1 an operational error (e.g. no agent answers, fleet unreachable), 2 a
 * usage or config error (unknown command or flag, invalid or missing config, a refused
 * enrollment token): the systemd unit does not restart on 2, since restarting cannot fix it.
 */
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadAgentConfig, parseAgentConfig } from './config.js';
import { startAgent } from './agent.js';
import { getLocal, localApiUrl } from './api/local-client.js';
import { enroll as enrollDevice, EnrollUsageError } from './enroll/enroll.js';

const ENV_NOTE =
  'Environment overrides: EDGELOOP_DEVICE_ID, EDGELOOP_MQTT_URL, EDGELOOP_DATA_DIR, EDGELOOP_API_PORT, EDGELOOP_LOG_LEVEL';

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean };

interface AgentCommand {
  /** What the command does, for both the overview and its own --help. */
  summary: string;
  /** Flag name → [value placeholder ('' for a switch), what it means]. */
  help: Record<string, [string, string]>;
  options: Record<string, OptionSpec>;
  run(argv: string[], io: CliIo): number | Promise<number>;
}

const ENROLL_OPTIONS = {
  fleet: { type: 'string' },
  token: { type: 'string' },
  'device-id': { type: 'string' },
  config: { type: 'string' },
  data: { type: 'string' },
  hardware: { type: 'string' },
  'api-port': { type: 'string' },
  force: { type: 'boolean' },
  'ca-fingerprint': { type: 'string' },
  insecure: { type: 'boolean' },
} as const;
const INIT_OPTIONS = {
  'device-id': { type: 'string' },
  'mqtt-url': { type: 'string' },
  'trusted-key': { type: 'string', multiple: true },
  data: { type: 'string' },
  config: { type: 'string' },
  'api-port': { type: 'string' },
  force: { type: 'boolean' },
  ca: { type: 'string' },
} as const;
const RUN_OPTIONS = { config: { type: 'string' }, json: { type: 'boolean' } } as const;
const QUERY_OPTIONS = { config: { type: 'string' }, url: { type: 'string' }, json: { type: 'boolean' } } as const;

const QUERY_HELP: Record<string, [string, string]> = {
  config: ['FILE', 'agent config to read the local API port from (default ./edgeloop-agent.json)'],
  url: ['URL', "the running agent's local API, as printed by edgeloop-agent run (instead of --config)"],
  json: ['', 'print the raw JSON answer'],
};

/**
 * Every command with its flags: `main` dispatches from it, `<command> --help` prints from it and
 * the test walks it, so a command cannot be added without help.
 */
export const COMMANDS: Record<string, AgentCommand> = {
  enroll: {
    summary:
      "enroll with the fleet server (token and CA fingerprint from: edgeloop tokens create) and write the config with this device's credentials",
    help: {
      fleet: ['URL', "the fleet server's address, e.g. https://fleet.local:8460 (required)"],
      token: ['T', 'enrollment token from edgeloop tokens create (or env EDGELOOP_ENROLL_TOKEN; required)'],
      'ca-fingerprint': ['sha256:…', "pin the fleet's CA (saved beside the config; or env EDGELOOP_CA_FINGERPRINT)"],
      'device-id': ['ID', "this device's id (default: the existing config's, else the hostname)"],
      config: ['FILE', 'config file to write (default ./edgeloop-agent.json)'],
      data: ['DIR', 'state directory (default ./edgeloop-agent-data)'],
      hardware: ['H', 'hardware name the fleet shows, e.g. pi4'],
      'api-port': ['PORT', 'local API port (0 = any free port)'],
      force: ['', 'overwrite an existing config'],
      insecure: ['', 'allow plain http:// to another machine (credentials in clear text!)'],
    },
    options: ENROLL_OPTIONS,
    run: enroll,
  },
  init: {
    summary: 'write a validated config file by hand (default ./edgeloop-agent.json)',
    help: {
      'device-id': ['ID', "this device's id (required)"],
      'mqtt-url': ['URL', "the fleet's MQTT broker, e.g. mqtts://fleet.local:8883 (required)"],
      'trusted-key': ['KEY', 'root public key models must be signed under (repeatable; required)'],
      ca: ['FILE', "PEM file of the CA that signed the fleet's certificates"],
      data: ['DIR', 'state directory (default ./edgeloop-agent-data)'],
      config: ['FILE', 'config file to write (default ./edgeloop-agent.json)'],
      'api-port': ['PORT', 'local API port (0 = any free port)'],
      force: ['', 'overwrite an existing config'],
    },
    options: INIT_OPTIONS,
    run: init,
  },
  run: {
    summary: 'run the agent until Ctrl-C / SIGTERM',
    help: {
      config: ['FILE', 'agent config (default ./edgeloop-agent.json)'],
      json: ['', 'print one JSON line {"event":"ready",...} on stdout when ready'],
    },
    options: RUN_OPTIONS,
    run,
  },
  status: {
    summary: 'device, fleet link, models, backlog and drops of the running agent',
    help: QUERY_HELP,
    options: QUERY_OPTIONS,
    run: status,
  },
  models: {
    summary: 'the models the running agent serves',
    help: QUERY_HELP,
    options: QUERY_OPTIONS,
    run: models,
  },
};

function flagText(flag: string, [value]: [string, string]): string {
  return `--${flag}${value ? ` ${value}` : ''}`;
}

function synopsis(name: string): string {
  const { help } = COMMANDS[name]!;
  return `${name} ${Object.entries(help)
    .map(([flag, entry]) => `[${flagText(flag, entry)}]`)
    .join(' ')}`;
}

/** `edgeloop-agent <command> --help`: the command, what it does and every flag it takes. */
export function commandUsage(name: string): string {
  const command = COMMANDS[name]!;
  const rows = Object.entries(command.help).map(([flag, entry]) => {
    const left = `  ${flagText(flag, entry)}`;
    return left.length < 28 ? `${left.padEnd(28)}${entry[1]}` : `${left}\n${' '.repeat(28)}${entry[1]}`;
  });
  return `usage: edgeloop-agent ${synopsis(name)}\n\n${command.summary}\n\nOptions:\n${rows.join('\n')}\n  -h, --help                show this help${name === 'run' ? `\n${ENV_NOTE}` : ''}`;
}

export const USAGE = `usage: edgeloop-agent <command> [options]
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  .join('\n')}
"edgeloop-agent <command> --help" lists a command's options.
${ENV_NOTE}`;

const DEFAULT_CONFIG = 'edgeloop-agent.json';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const consoleIo: CliIo = { out: (text) => console.log(text), err: (text) => console.error(text) };

class UsageError extends Error {}

export async function main(argv: string[], io: CliIo = consoleIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    const topic = command === 'help' && rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0]) ? rest[0] : undefined;
    io.out(topic ? commandUsage(topic) : USAGE);
    return command ? 0 : 2;
  }
  if (!Object.hasOwn(COMMANDS, command)) {
    io.err(`error: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  // Before parsing, so --help works beside a mistaken flag too.
  if (rest.some((arg) => arg === '--help' || arg === '-h')) {
    io.out(commandUsage(command));
    return 0;
  }
  try {
    return await COMMANDS[command]!.run(rest, io);
  } catch (err) {
    io.err(`error: ${(err as Error).message}`);
    // 2 = fix the command line or the config first: the systemd unit does not restart on it.
    const usage =
      err instanceof UsageError ||
      err instanceof ConfigError ||
      err instanceof EnrollUsageError ||
      String((err as { code?: string }).code).startsWith('ERR_PARSE_ARGS');
    if (usage && String((err as { code?: string }).code).startsWith('ERR_PARSE_ARGS'))
      io.err(`"edgeloop-agent ${command} --help" lists its options.`);
    return usage ? 2 : 1;
  }
}

function init(argv: string[], io: CliIo): number {
  const { values } = parseArgs({ args: argv, options: INIT_OPTIONS });
  const path = resolve(values.config ?? DEFAULT_CONFIG);
  if (values.ca && !existsSync(values.ca))
    throw new UsageError(
      `--ca ${values.ca} does not exist: give the PEM file of the CA that signed the fleet's certificates`,
    );
  if (existsSync(path) && !values.force) throw new UsageError(`${path} exists; pass --force to overwrite it`);
  const config = parseAgentConfig(
    {
      deviceId: values['device-id'],
      dataDir: resolve(values.data ?? 'edgeloop-agent-data'),
      api: values['api-port'] ? { port: Number(values['api-port']) } : {},
      fleet: {
        mqttUrl: values['mqtt-url'],
        trustedKeys: values['trusted-key'] ?? [],
        ...(values.ca ? { ca: resolve(values.ca) } : {}),
      },
    },
    'the init options',
  );
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  io.out(`wrote ${path}; start the agent with: edgeloop-agent run --config ${path}`);
  return 0;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: RUN_OPTIONS });
  const config = loadAgentConfig(resolve(values.config ?? DEFAULT_CONFIG));
  const agent = await startAgent(config);
  // Before "ready" is announced: a SIGTERM sent the moment it is read must find the handler, or
  // the default action kills the process without a clean stop.
  const stopRequested = new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
  if (values.json)
    io.out(JSON.stringify({ event: 'ready', deviceId: agent.deviceId, apiUrl: agent.apiUrl, stream: agent.stream }));
  else io.err(`EdgeLoop agent ${agent.deviceId}: local API ${agent.apiUrl} — Ctrl-C to stop`);
  await stopRequested;
  await agent.close();
  return 0;
}

/** The running agent's API URL: --url, else the configured host and port. */
function agentUrl(argv: string[]): { url: string; json: boolean } {
  const { values } = parseArgs({ args: argv, options: QUERY_OPTIONS });
  if (values.url) return { url: values.url.replace(/\/+$/, ''), json: values.json ?? false };
  const path = resolve(values.config ?? DEFAULT_CONFIG);
  const config = loadAgentConfig(path);
  if (config.api.port === 0) {
    throw new UsageError(
      `${path} sets api.port 0 (any free port), so the agent's address is not known here; pass --url http://HOST:PORT as printed by edgeloop-agent run`,
    );
  }
  return { url: localApiUrl(config.api), json: values.json ?? false };
}

interface HealthBody {
  status: string;
  deviceId: string;
  agentVersion?: string;
  connected: boolean;
  models: Array<{ name: string; version: number; sha256: string }>;
  backlog: number;
  dropped: number;
  stream: string;
}

async function status(argv: string[], io: CliIo): Promise<number> {
  const { url, json } = agentUrl(argv);
  const health = await getLocal<HealthBody>(url, '/v1/health');
  if (json) {
    io.out(JSON.stringify(health, null, 2));
    return 0;
  }
  const rows: Array<[string, string]> = [
    ['device', `${health.deviceId}${health.agentVersion ? ` (agent ${health.agentVersion})` : ''}`],
    ['local API', url],
    ['fleet', health.connected ? 'connected' : 'not connected (predictions are buffered until the link is back)'],
    [
      'models',
      health.models.length
        ? health.models.map((m) => `${m.name} v${m.version}`).join(', ')
        : 'none active; deploy one: edgeloop deploy NAME@VERSION --device ' + health.deviceId,
    ],
    ['backlog', `${health.backlog} record${health.backlog === 1 ? '' : 's'} waiting for the fleet server`],
    ['dropped', `${health.dropped} record${health.dropped === 1 ? '' : 's'} (buffer limits)`],
    ['stream', health.stream],
  ];
  io.out(rows.map(([k, v]) => `${k.padEnd(10)} ${v}`).join('\n'));
  return 0;
}

async function models(argv: string[], io: CliIo): Promise<number> {
  const { url, json } = agentUrl(argv);
  const body = await getLocal<{ models: HealthBody['models'] }>(url, '/v1/models');
  if (json) {
    io.out(JSON.stringify(body, null, 2));
    return 0;
  }
  if (body.models.length === 0) {
    io.out('no active models; deploy one from the fleet server: edgeloop deploy NAME@VERSION --device ID');
    return 0;
  }
  const rows = [
    ['MODEL', 'VERSION', 'SHA256'],
    ...body.models.map((m) => [m.name, String(m.version), m.sha256.slice(0, 12)]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  io.out(
    rows
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n'),
  );
  return 0;
}

async function enroll(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: ENROLL_OPTIONS });
  if (!values.fleet)
    throw new UsageError("--fleet URL is required: the fleet server's address, e.g. --fleet https://fleet.local:8460");
  const token = values.token ?? process.env.EDGELOOP_ENROLL_TOKEN;
  if (!token)
    throw new UsageError('--token T is required: an enrollment token from the fleet operator (edgeloop tokens create)');
  let apiPort: number | undefined;
  if (values['api-port'] !== undefined) {
    apiPort = Number(values['api-port']);
    if (!Number.isInteger(apiPort) || apiPort < 0 || apiPort > 65535)
      throw new UsageError(`--api-port must be a port number 0-65535, got "${values['api-port']}"`);
  }
  await enrollDevice(
    {
      fleetUrl: values.fleet,
      token,
      deviceId: values['device-id'],
      configPath: values.config ?? DEFAULT_CONFIG,
      dataDir: values.data,
      hardware: values.hardware,
      apiPort,
      force: values.force,
      caFingerprint: values['ca-fingerprint'] ?? process.env.EDGELOOP_CA_FINGERPRINT,
      insecure: values.insecure,
    },
    (line) => io.out(line),
  );
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
