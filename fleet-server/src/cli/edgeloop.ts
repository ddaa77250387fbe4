/**
 * @module cli/edgeloop
 * `edgeloop`: the operator CLI for the fleet server's REST API (push and list models, deploy them
 * to devices, watch devices and telemetry) plus `edgeloop serve`, which runs the server itself.
 *
 * Exit codes: 0 success, 1 an operational error (server down, rejected request, unreadable file),
 * 2 a usage error (unknown command or flag, malformed arguments).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CliError, DEFAULT_SERVER_URL, SERVER_INFO_PATH, createApiClient, resolveServerUrl } from './api-client.js';
import type { ApiClient } from './api-client.js';
import {
  describeFileError,
  renderDevicesTable,
  renderModelsTable,
  renderTelemetryTable,
  renderSamplesTable,
  shortHash,
} from './format.js';

export { resolveServerUrl };

const DEFAULT_TELEMETRY_LIMIT = 20;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const consoleIo: CliIo = { out: (text) => console.log(text), err: (text) => console.error(text) };

export const USAGE = `Usage: edgeloop <command> [options]

Commands:
  models push <file.onnx> --name N [--version V] [--meta meta.json]
                        register and sign a model version
  models list           list registered model versions
  deploy <name>@<version> --device ID [--device ID ...]
                        assign a model version to devices
  devices               show devices, what they run and what they were assigned
  telemetry [--device ID] [--model N] [--version V] [--limit N]
                        show recent predictions (newest first, default limit ${DEFAULT_TELEMETRY_LIMIT})
  samples list [--device ID] [--model N] [--limit N]
                        list the raw inputs devices kept for retraining
  samples request --device ID [--minutes N]
                        ask a device to upload its kept inputs (default 60 minutes)
  serve [options]       run the fleet server (see "edgeloop serve --help")
  help                  show this help

Global options:
  --server URL          fleet server to talk to; otherwise $EDGELOOP_SERVER,
                        then ./${SERVER_INFO_PATH}, then ${DEFAULT_SERVER_URL}
  --json                print the raw JSON response instead of a table
  -h, --help            show this help`;

/** Malformed invocation: reported with the usage text and exit code 2. */
class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/**
 * One option table for every command: parseArgs then rejects flags no command knows, and
 * {@link COMMANDS} rejects flags that exist but belong to another command.
 */
const OPTIONS = {
  server: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  name: { type: 'string' },
  version: { type: 'string' },
  meta: { type: 'string' },
  device: { type: 'string', multiple: true },
  model: { type: 'string' },
  limit: { type: 'string' },
  minutes: { type: 'string' },
} as const;

type Flags = ReturnType<typeof parseCommandLine>['values'];
type FlagName = keyof typeof OPTIONS;

const GLOBAL_FLAGS: readonly FlagName[] = ['server', 'json', 'help'];

interface CommandContext {
  operands: string[];
  flags: Flags;
  io: CliIo;
  /** Resolved lazily so argument mistakes are reported before server configuration problems. */
  connect(): ApiClient;
}

interface Command {
  flags: readonly FlagName[];
  run(context: CommandContext): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  'models push': { flags: ['name', 'version', 'meta'], run: pushModel },
  'models list': { flags: [], run: listModels },
  deploy: { flags: ['device'], run: deploy },
  devices: { flags: [], run: listDevices },
  telemetry: { flags: ['device', 'model', 'version', 'limit'], run: listTelemetry },
  'samples list': { flags: ['device', 'model', 'limit'], run: listSamples },
  'samples request': { flags: ['device', 'minutes'], run: requestSamples },
};

export async function main(argv: string[], io: CliIo = consoleIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}\n\n${USAGE}`);
      return error.exitCode;
    }
    if (error instanceof CliError) {
      io.err(`error: ${error.message}`);
      return error.exitCode;
    }
    // Not an expected failure, so the stack is what makes the bug report useful.
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.err(`error: unexpected failure, please report it: ${detail}`);
    return 1;
  }
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const serveAt = indexOfServeCommand(argv);
  if (serveAt !== -1) return runServe(argv.slice(serveAt + 1));

  const { values: flags, positionals } = parseCommandLine(argv);
  const [first, second, ...rest] = positionals;
  if (flags.help || first === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (first === undefined) throw new UsageError('missing command');

  let name = first;
  let operands = [second, ...rest].filter((operand) => operand !== undefined);
  const SUBCOMMANDS: Record<string, readonly string[]> = { models: ['push', 'list'], samples: ['list', 'request'] };
  const subs = SUBCOMMANDS[first];
  if (subs) {
    if (second === undefined || !subs.includes(second)) {
      throw new UsageError(second === undefined ? `${first} needs ${subs.join(' or ')}` : `unknown ${first} command "${second}"`);
    }
    name = `${first} ${second}`;
    operands = rest;
  }
  const command = COMMANDS[name];
  if (command === undefined) throw new UsageError(`unknown command "${first}"`);

  for (const [flag, value] of Object.entries(flags)) {
    const known = [...GLOBAL_FLAGS, ...command.flags] as string[];
    if (value !== undefined && !known.includes(flag)) {
      throw new UsageError(`--${flag} is not an option of "edgeloop ${name}"`);
    }
  }

  const connect = () => createApiClient(resolveServerUrl(flags, process.env, process.cwd()));
  await command.run({ operands, flags, io, connect });
  return 0;
}

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs messages carry advice about "--" that does not apply here; keep the gist.
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    throw new UsageError(unknown ? `unknown option ${unknown[1]}` : message);
  }
}

/** `serve` owns its flags, so its argv is handed over untouched instead of parsed here. */
function indexOfServeCommand(argv: string[]): number {
  for (let index = 0; index < argv.length; index += 1) {
    const token = argv[index] ?? '';
    if (token === '--server') index += 1;
    else if (!token.startsWith('-')) return token === 'serve' ? index : -1;
  }
  return -1;
}

/** Loaded on demand: the server's dependencies (broker, SQLite) would slow every other command. */
async function runServe(argv: string[]): Promise<number> {
  const { runServe: serve } = await import('./serve.js');
  return serve(argv);
}

async function pushModel({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [filePath, ...extra] = operands;
  if (filePath === undefined || extra.length > 0) {
    throw new UsageError('models push takes exactly one model file, e.g. edgeloop models push model.onnx --name distance');
  }
  if (flags.name === undefined || flags.name === '') throw new UsageError('models push needs --name <model name>');
  const version = flags.version === undefined ? undefined : parsePositiveInt(flags.version, '--version');

  const bytes = await readModelFile(filePath);
  const metadataJson = flags.meta === undefined ? undefined : await readMetadataFile(flags.meta);
  const client = connect();
  if (!flags.json) io.out(`uploading ${filePath} (${bytes.byteLength} bytes)…`);
  const body = await client.pushModel({ fileName: basename(filePath), bytes, name: flags.name, version, metadataJson });
  if (flags.json) return printJson(io, body);
  const { model } = body;
  io.out(
    `registered ${model.name} v${model.version} sha256 ${shortHash(model.sha256)} (${model.size} bytes), ` +
      `signed by key ${model.keyId}`,
  );
}

async function readModelFile(path: string): Promise<Uint8Array<ArrayBuffer>> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new CliError(`cannot read model file ${path} (${describeFileError(error)}); check the path`);
  }
  if (bytes.byteLength === 0) throw new CliError(`model file ${path} is empty; export the model again`);
  return bytes;
}

/** Returns the text as written: the server owns the metadata schema, we only catch typos early. */
async function readMetadataFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read metadata file ${path} (${describeFileError(error)}); check the --meta path`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`metadata file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(`metadata file ${path} must contain a JSON object`);
  }
  return text;
}

async function listModels({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'models list');
  const body = await connect().listModels();
  if (flags.json) return printJson(io, body);
  if (body.models.length === 0) {
    return io.out('no models registered yet; push one with: edgeloop models push <file.onnx> --name <name>');
  }
  io.out(renderModelsTable(body.models));
}

async function deploy({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [ref, ...extra] = operands;
  if (ref === undefined || extra.length > 0) {
    throw new UsageError('deploy takes exactly one <name>@<version>, e.g. edgeloop deploy distance@3 --device pi-1');
  }
  const { name, version } = parseModelRef(ref);
  const devices = [...new Set(flags.device ?? [])];
  if (devices.length === 0) throw new UsageError('deploy needs at least one --device <id>');
  if (devices.includes('')) throw new UsageError('--device needs a non-empty device id');

  const body = await connect().deploy({ model: name, version, devices });
  if (flags.json) return printJson(io, body);
  const { deployment } = body;
  const count = deployment.devices.length;
  io.out(
    `assigned ${deployment.model} v${deployment.version} to ${count} device(s): ${deployment.devices.join(', ')}`,
  );
  io.out('watch it with: edgeloop devices');
}

/** Splits at the last "@" so scoped-looking names such as "@team/model@2" still parse. */
export function parseModelRef(ref: string): { name: string; version: number } {
  const at = ref.lastIndexOf('@');
  if (at <= 0 || at === ref.length - 1) {
    throw new UsageError(`expected <name>@<version> such as distance@3, got "${ref}"`);
  }
  const name = ref.slice(0, at);
  const version = ref.slice(at + 1);
  if (!/^[1-9]\d*$/.test(version)) {
    throw new UsageError(`version in "${ref}" must be a positive integer, e.g. ${name}@3`);
  }
  return { name, version: Number(version) };
}

async function listDevices({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'devices');
  const body = await connect().listDevices();
  if (flags.json) return printJson(io, body);
  if (body.devices.length === 0) {
    return io.out('no devices have connected yet; start an agent pointed at this server');
  }
  io.out(renderDevicesTable(body.devices));
}

async function listTelemetry({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'telemetry');
  if ((flags.device?.length ?? 0) > 1) throw new UsageError('telemetry takes at most one --device');
  const limit = flags.limit === undefined ? DEFAULT_TELEMETRY_LIMIT : parsePositiveInt(flags.limit, '--limit');
  const version = flags.version === undefined ? undefined : parsePositiveInt(flags.version, '--version');

  const body = await connect().listTelemetry({ device: flags.device?.[0], model: flags.model, version, limit });
  if (flags.json) return printJson(io, body);
  if (body.records.length === 0) return io.out('no telemetry records match');
  io.out(renderTelemetryTable(body.records));
}

async function listSamples({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'samples list');
  if ((flags.device?.length ?? 0) > 1) throw new UsageError('samples list takes at most one --device');
  const limit = flags.limit === undefined ? DEFAULT_TELEMETRY_LIMIT : parsePositiveInt(flags.limit, '--limit');
  const body = await connect().listSamples({ device: flags.device?.[0], model: flags.model, limit });
  if (flags.json) return printJson(io, body);
  if (body.samples.length === 0) return io.out('no samples yet; devices keep some when sampling is configured, and upload them on request (edgeloop samples request)');
  io.out(renderSamplesTable(body.samples));
}

async function requestSamples({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'samples request');
  if (flags.device?.length !== 1) throw new UsageError('samples request needs exactly one --device');
  const minutes = flags.minutes === undefined ? 60 : parsePositiveInt(flags.minutes, '--minutes');
  const body = await connect().requestSamples(flags.device[0]!, minutes);
  if (flags.json) return printJson(io, body);
  io.out(`asked ${body.deviceId} to upload its samples until ${new Date(body.uploadUntil).toISOString()}; list them with: edgeloop samples list --device ${body.deviceId}`);
}

function parsePositiveInt(raw: string, flag: string): number {
  if (!/^[1-9]\d*$/.test(raw)) throw new UsageError(`${flag} must be a positive integer, got "${raw}"`);
  return Number(raw);
}

function rejectOperands(operands: string[], command: string): void {
  if (operands.length > 0) throw new UsageError(`unexpected argument "${operands[0]}" for "edgeloop ${command}"`);
}

function printJson(io: CliIo, body: unknown): void {
  io.out(JSON.stringify(body, null, 2));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
