/**
 * @module cli/command
 * What an `edgeloop` command is: a name ("models push"), its own options, a usage line and a
 * handler. Feature areas keep their commands in commands/<area>.ts and list them in
 * commands/index.ts; edgeloop.ts only parses, dispatches and reports errors.
 *
 * Exit codes: 0 success, 1 an operational error (CliError), 2 a usage error (UsageError).
 */
import { CliError, type ApiClient } from './api-client.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** The subset of node:util parseArgs option settings commands use. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
}

export type FlagValue = string | boolean | string[] | undefined;
export type Flags = Record<string, FlagValue>;

export interface CommandContext {
  operands: string[];
  flags: Flags;
  io: CliIo;
  /** Resolved lazily so argument mistakes are reported before server configuration problems. */
  connect(): ApiClient;
}

export interface CliCommand {
  /** Usage synopsis after the command name, e.g. `<file.onnx> --name N [--version V]`. */
  synopsis?: string;
  /** One line shown under the synopsis in `edgeloop help`. */
  summary: string;
  /** Options only this command takes (global ones: --server, --token, --json, --help). */
  options?: Record<string, OptionSpec>;
  run(context: CommandContext): Promise<void>;
}

/** Keys are the full command name: "devices", "models push", "rollouts status". */
export type CommandTable = Record<string, CliCommand>;

/** Malformed invocation: reported with the usage text and exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

export function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

export function listFlag(flags: Flags, name: string): string[] {
  const value = flags[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

export function parsePositiveInt(raw: string, flag: string): number {
  if (!/^[1-9]\d*$/.test(raw)) throw new UsageError(`${flag} must be a positive integer, got "${raw}"`);
  return Number(raw);
}

/** `30s`, `5m`, `2h`, `7d` or plain seconds → milliseconds. */
export function parseDuration(raw: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(raw);
  if (!m) throw new UsageError(`${flag} must be a duration such as 30s, 5m, 2h or 7d, got "${raw}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    (m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Math.round(Number(m[1]) * unit);
}

/** `--tag site=berlin --tag hw=pi4` → { site: 'berlin', hw: 'pi4' }. */
export function parseTags(values: string[], flag = '--tag'): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} takes key=value, got "${value}"`);
    tags[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return tags;
}

export function rejectOperands(operands: string[], command: string): void {
  if (operands.length > 0) throw new UsageError(`unexpected argument "${operands[0]}" for "edgeloop ${command}"`);
}

export function printJson(io: CliIo, body: unknown): void {
  io.out(JSON.stringify(body, null, 2));
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
