/**
 * @module cli/help.test
 * Every `edgeloop` command answers `--help` with its own usage: the test walks the command table,
 * so a command added without a synopsis, summary or listed options fails here.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { CliCommand } from './command.js';
import { COMMAND_TABLES } from './commands/index.js';
import { main } from './edgeloop.js';

async function runCli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const COMMANDS = Object.assign({}, ...COMMAND_TABLES) as Record<string, CliCommand>;
/** Read from the feature tables, not from edgeloop.ts, so a command cannot slip past the walk. */
const COMMAND_NAMES = [...Object.keys(COMMANDS), 'serve'];
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('every command prints its own usage for --help, -h and help <command>', async () => {
  assert.ok(COMMAND_NAMES.length > 20, 'the walk sees the whole table');
  for (const name of COMMAND_NAMES.filter((n) => n !== 'serve')) {
    const command = COMMANDS[name]!;
    for (const argv of [
      [...name.split(' '), '--help'],
      [...name.split(' '), '-h'],
      ['help', ...name.split(' ')],
    ]) {
      const result = await runCli(argv);
      assert.equal(result.code, 0, `${argv.join(' ')}: ${result.err}`);
      assert.equal(result.err, '', argv.join(' '));
      assert.match(
        result.out,
        new RegExp(`^Usage: edgeloop ${escape(name)}\\b`),
        `${argv.join(' ')} names its command`,
      );
      assert.doesNotMatch(result.out, /Usage: edgeloop <command>/, `${argv.join(' ')} is not the overview`);
      assert.ok(command.summary.length > 0 && result.out.includes(command.summary), `${name} says what it does`);
      for (const flag of Object.keys(command.options ?? {})) {
        assert.match(result.out, new RegExp(`--${escape(flag)}\\b`), `${name} --help lists --${flag}`);
      }
    }
  }
});

test('--help after operands or another flag still prints that command, not an error', async () => {
  const result = await runCli(['deploy', 'distance@3', '--device', 'pi-1', '--help']);
  assert.equal(result.code, 0, result.err);
  assert.match(result.out, /^Usage: edgeloop deploy /);
});

test('a command group prints its subcommands; an unknown one is a usage error', async () => {
  const group = await runCli(['models', '--help']);
  assert.equal(group.code, 0, group.err);
  for (const name of COMMAND_NAMES.filter((n) => n.startsWith('models ')))
    assert.ok(group.out.includes(name), `models --help lists ${name}`);
  const unknown = await runCli(['help', 'frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command "frobnicate"/);
});

test('edgeloop serve --help and edgeloop help serve print the serve options', async () => {
  const shim = fileURLToPath(new URL('../../bin/edgeloop.js', import.meta.url));
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [shim, ...args], (error, stdout) =>
        resolve({ code: error ? Number(error.code) : 0, stdout }),
      );
    });
  for (const args of [
    ['serve', '--help'],
    ['help', 'serve'],
  ]) {
    const result = await run(args);
    assert.equal(result.code, 0, args.join(' '));
    assert.match(result.stdout, /^usage: edgeloop serve \[options\]/, args.join(' '));
    assert.match(result.stdout, /--data DIR/);
  }
});
