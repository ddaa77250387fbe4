/**
 * @module cli/edgeloop
 * `edgeloop`: the operator CLI for the fleet server's REST API, plus `edgeloop serve`, which runs
 * the server itself. This file parses the command line, finds the command in the registry
 * (commands/index.ts) and turns failures into exit codes; the commands live by area in commands/.
 *
 * Exit codes: 0 success, 1 an operational error (server down, rejected request, unreadable file),
 * 2 a usage error (unknown command or flag, malformed arguments).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CliError,
  DEFAULT_SERVER_URL,
  SERVER_INFO_PATH,
  createApiClient,
  resolveCa,
  resolveServer,
  resolveServerUrl,
  resolveToken,
} from './api-client.js';
import { UsageError, type CliCommand, type CliIo, type Flags, type OptionSpec } from './command.js';
import { COMMAND_TABLES } from './commands/index.js';

export { resolveServerUrl };
export { parseModelRef } from './command.js';
export type { CliIo } from './command.js';

const consoleIo: CliIo = { out: (text) => console.log(text), err: (text) => console.error(text) };

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  server: { type: 'string' },
  token: { type: 'string' },
  ca: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const COMMANDS: Record<string, CliCommand> = Object.assign({}, ...COMMAND_TABLES) as Record<string, CliCommand>;

/**
 * One option table for every command: parseArgs then rejects flags no command knows, and
 * {@link run} rejects flags that exist but belong to another command. Two commands may share a
 * flag name only with the same definition.
 */
const OPTIONS: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
for (const [name, command] of Object.entries(COMMANDS)) {
  for (const [flag, spec] of Object.entries(command.options ?? {})) {
    const seen = OPTIONS[flag];
    if (seen && (seen.type !== spec.type || Boolean(seen.multiple) !== Boolean(spec.multiple))) {
      throw new Error(`edgeloop ${name}: option --${flag} conflicts with another command's --${flag}`);
    }
    OPTIONS[flag] = spec;
  }
}

function buildUsage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => {
    const head = `  ${name}${c.synopsis ? ` ${c.synopsis}` : ''}`;
    return head.length <= 22 ? `${head.padEnd(24)}${c.summary}` : `${head}\n${' '.repeat(24)}${c.summary}`;
  });
  return `Usage: edgeloop <command> [options]

Commands:
${lines.join('\n')}
  serve [options]       run the fleet server (see "edgeloop serve --help")
  help [command]        show this help, or a command's ("edgeloop <command> --help")

Global options:
  --server URL          fleet server to talk to; otherwise $EDGELOOP_SERVER,
                        then ./${SERVER_INFO_PATH}, then ${DEFAULT_SERVER_URL}
  --token T             admin token; otherwise $EDGELOOP_TOKEN, then the token in
                        ./${SERVER_INFO_PATH} (only for the server it names)
  --ca FILE             CA certificate of an https server with a private CA; otherwise
                        $EDGELOOP_CA, then the one ./${SERVER_INFO_PATH} names
  --json                print the raw JSON response instead of a table
  -h, --help            show this help`;
}

export const USAGE = buildUsage();

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

/** "models push" when registered; else "models" alone; else an error naming the subcommands. */
function resolveCommand(positionals: string[]): { name: string; operands: string[] } {
  const [first, second, ...rest] = positionals;
  if (first === undefined) throw new UsageError('missing command');
  if (second !== undefined && COMMANDS[`${first} ${second}`]) return { name: `${first} ${second}`, operands: rest };
  const subs = Object.keys(COMMANDS)
    .filter((n) => n.startsWith(`${first} `))
    .map((n) => n.slice(first.length + 1));
  if (COMMANDS[first] && (subs.length === 0 || second === undefined || !subs.some((s) => s.startsWith(second)))) {
    return { name: first, operands: positionals.slice(1) };
  }
  if (subs.length > 0) {
    throw new UsageError(
      second === undefined ? `${first} needs ${subs.join(' or ')}` : `unknown ${first} command "${second}"`,
    );
  }
  throw new UsageError(`unknown command "${first}"`);
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const serveAt = indexOfServeCommand(argv);
  if (serveAt !== -1) return runServe(argv.slice(serveAt + 1));

  const { values, positionals } = parseCommandLine(argv);
  const flags = values as Flags;
  if (flags.help || positionals[0] === 'help') {
    io.out(await helpFor(positionals[0] === 'help' ? positionals.slice(1) : positionals));
    return 0;
  }
  const { name, operands } = resolveCommand(positionals);
  const command = COMMANDS[name]!;
  const known = [...Object.keys(GLOBAL_OPTIONS), ...Object.keys(command.options ?? {})];
  for (const [flag, value] of Object.entries(flags)) {
    if (value !== undefined && !known.includes(flag))
      throw new UsageError(`--${flag} is not an option of "edgeloop ${name}"`);
  }

  const connect = () => {
    const { url: serverUrl, file: serverFile } = resolveServer(
      flags as { server?: string },
      process.env,
      process.cwd(),
    );
    return createApiClient(serverUrl, {
      serverFile,
      token: resolveToken(flags as { token?: string }, process.env, process.cwd(), serverUrl),
      ca: resolveCa(flags as { ca?: string }, process.env, process.cwd(), serverUrl),
    });
  };
  await command.run({ operands, flags, io, connect });
  return 0;
}

/** `edgeloop <command> --help` / `edgeloop help <command>`: that command's usage; none named: the overview. */
async function helpFor(topic: string[]): Promise<string> {
  if (topic.length === 0) return USAGE;
  if (topic[0] === 'serve') return (await import('./serve.js')).SERVE_USAGE;
  const [first, second] = topic;
  if (second !== undefined && COMMANDS[`${first} ${second}`]) return commandUsage(`${first} ${second}`);
  if (COMMANDS[first!]) return commandUsage(first!);
  const group = Object.entries(COMMANDS).filter(([name]) => name.startsWith(`${first} `));
  if (group.length === 0) throw new UsageError(`unknown command "${first}"`);
  return `Usage: edgeloop ${first} <command> [options]\n\nCommands:\n${group.map(([name, c]) => `  ${name}${c.synopsis ? ` ${c.synopsis}` : ''}\n      ${c.summary}`).join('\n')}\n\n"edgeloop ${first} <command> --help" lists a command's options.`;
}

/** The value placeholder the synopsis shows for a flag (`--wait 5m` → `5m`), else VALUE. */
function optionText(flag: string, spec: OptionSpec, synopsis: string): string {
  const shown = new RegExp(`--${flag} ([^\\s\\]]+)`).exec(synopsis)?.[1];
  const value = spec.type === 'string' ? ` ${shown ?? 'VALUE'}` : '';
  return `${spec.short ? `-${spec.short}, ` : ''}--${flag}${value}${spec.multiple && !value.endsWith('...') ? ' (repeatable)' : ''}`;
}

/** Built from the command table, so every command has one: synopsis, what it does, its options. */
export function commandUsage(name: string): string {
  const command = COMMANDS[name];
  if (!command) throw new Error(`no command "${name}"`);
  const own = Object.entries(command.options ?? {}).map(
    ([flag, spec]) => `  ${optionText(flag, spec, command.synopsis ?? '')}`,
  );
  return `Usage: edgeloop ${name}${command.synopsis ? ` ${command.synopsis}` : ''}

${command.summary}
${own.length ? `\nOptions:\n${own.join('\n')}\n` : ''}
Global options: --server URL, --token T, --ca FILE, --json, -h/--help ("edgeloop --help" says where
each comes from when not given)`;
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

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
