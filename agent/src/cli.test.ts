import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { encodePublicKey, generateKeyPair } from '@edgeloop/protocol';
import { startAgent } from './agent.js';
import { startTestFleet } from './api/test-support.js';
import { COMMANDS, main, type CliIo } from './cli.js';
import { parseAgentConfig, type AgentConfigInput } from './config.js';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t) };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function writeConfig(dir: string, config: AgentConfigInput): string {
  const path = join(dir, `agent-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

test('status and models ask the running agent; a stopped agent gets advice', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-cli-'));
  const base: AgentConfigInput = {
    deviceId: 'cli-pi-1',
    dataDir: join(dir, 'data'),
    api: { port: 0 },
    // Nothing listens there: the agent serves anyway and keeps retrying in the background.
    fleet: {
      mqttUrl: `mqtt://127.0.0.1:${await closedPort()}`,
      trustedKeys: [encodePublicKey(generateKeyPair().publicKey)],
    },
  };
  const agent = await startAgent(parseAgentConfig(base), pino({ level: 'silent' }));
  t.after(async () => {
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = writeConfig(dir, { ...base, api: { port: Number(new URL(agent.apiUrl).port) } });

  await t.test('status prints a readable summary', async () => {
    const res = await cli(['status', '--config', config]);
    assert.equal(res.code, 0, res.err);
    assert.match(res.out, /^device\s+cli-pi-1 \(agent \d+\.\d+\.\d+\)$/m);
    assert.match(res.out, /^fleet\s+not connected/m);
    assert.match(res.out, /^models\s+none active; deploy one: edgeloop deploy NAME@VERSION --device cli-pi-1$/m);
    assert.match(res.out, /^backlog\s+0 records waiting/m);
    assert.match(res.out, /^dropped\s+0 records/m);
    assert.match(res.out, new RegExp(`^local API\\s+${agent.apiUrl}$`, 'm'));
  });

  await t.test('--json prints the health document; models lists none', async () => {
    const status = await cli(['status', '--config', config, '--json']);
    assert.equal(status.code, 0);
    const health = JSON.parse(status.out) as Record<string, unknown>;
    assert.equal(health.deviceId, 'cli-pi-1');
    assert.equal(health.connected, false);
    assert.equal(health.stream, agent.stream);
    const models = await cli(['models', '--url', agent.apiUrl]);
    assert.equal(models.code, 0);
    assert.match(models.out, /no active models/);
    assert.deepEqual(JSON.parse((await cli(['models', '--config', config, '--json'])).out), { models: [] });
  });

  await t.test('no agent at the configured address: exit 1 and how to start it', async () => {
    const port = await closedPort();
    const res = await cli(['status', '--config', writeConfig(dir, { ...base, api: { port } })]);
    assert.equal(res.code, 1);
    assert.match(
      res.err,
      new RegExp(
        `no agent answers at http://127\\.0\\.0\\.1:${port}.*start it with edgeloop-agent run \\(or systemctl start edgeloop-agent\\)`,
      ),
    );
  });

  await t.test('usage and config problems exit 2', async () => {
    const anyPort = await cli(['status', '--config', writeConfig(dir, base)]);
    assert.equal(anyPort.code, 2);
    assert.match(anyPort.err, /api\.port 0.*pass --url/);
    assert.equal((await cli(['status', '--config', join(dir, 'missing.json')])).code, 2);
    assert.equal((await cli(['models', '--verbose'])).code, 2);
    assert.equal((await cli(['frobnicate'])).code, 2);
  });

  await t.test(
    'enroll refuses a bad command line with what to pass (the real enrollment: test/security/identity-enrollment.test.ts)',
    async () => {
      const noFleet = await cli(['enroll', '--token', 't0k3n']);
      assert.equal(noFleet.code, 2);
      assert.match(noFleet.err, /--fleet URL is required/);
      const noToken = await cli(['enroll', '--fleet', 'https://fleet.example']);
      assert.equal(noToken.code, 2);
      assert.match(noToken.err, /--token T is required.*edgeloop tokens create/);
      const mqttUrl = await cli([
        'enroll',
        '--fleet',
        'mqtt://fleet.example:18830',
        '--token',
        't',
        '--device-id',
        'pi-1',
        '--config',
        join(dir, 'new.json'),
      ]);
      assert.equal(mqttUrl.code, 2);
      assert.match(mqttUrl.err, /http:\/\/ or https:\/\/ address/);
      const exists = await cli([
        'enroll',
        '--fleet',
        'http://127.0.0.1:1',
        '--token',
        't',
        '--config',
        writeConfig(dir, base),
      ]);
      assert.equal(exists.code, 2);
      assert.match(exists.err, /exists; pass --force/);
      const unreachable = await cli([
        'enroll',
        '--fleet',
        `http://127.0.0.1:${await closedPort()}`,
        '--token',
        't',
        '--device-id',
        'pi-1',
        '--config',
        join(dir, 'new.json'),
      ]);
      assert.equal(unreachable.code, 1);
      assert.match(unreachable.err, /cannot reach the fleet server .*ECONNREFUSED.*check --fleet/);
    },
  );
});

test('status and models show the deployed model', { timeout: 60_000 }, async (t) => {
  const fleet = await startTestFleet();
  t.after(() => fleet.close());
  const agent = await fleet.startAgent('cli-pi-2');
  await fleet.deploySample('cli-pi-2');
  const status = await cli(['status', '--url', agent.apiUrl]);
  assert.match(status.out, /^fleet\s+connected$/m);
  assert.match(status.out, /^models\s+distance v1$/m);
  const models = await cli(['models', '--url', agent.apiUrl]);
  assert.equal(models.code, 0);
  const [header, row] = models.out.split('\n');
  assert.match(header!, /^MODEL\s+VERSION\s+SHA256$/);
  assert.match(row!, /^distance\s+1\s+[0-9a-f]{12}$/);
});

test('every command prints its own usage for --help, -h and help <command>, listing each flag it parses', async () => {
  assert.deepEqual(Object.keys(COMMANDS).sort(), ['enroll', 'init', 'models', 'run', 'status']);
  for (const [name, command] of Object.entries(COMMANDS)) {
    // The flags parseArgs accepts and the flags the help explains are the same set.
    assert.deepEqual(
      Object.keys(command.help).sort(),
      Object.keys(command.options).sort(),
      `${name}: help and options agree`,
    );
    for (const argv of [
      [name, '--help'],
      [name, '-h'],
      ['help', name],
      [name, '--config', 'x.json', '--help'],
    ]) {
      const res = await cli(argv);
      assert.equal(res.code, 0, `${argv.join(' ')}: ${res.err}`);
      assert.equal(res.err, '', argv.join(' '));
      assert.match(res.out, new RegExp(`^usage: edgeloop-agent ${name} `), `${argv.join(' ')} names its command`);
      assert.ok(res.out.includes(command.summary), `${name} says what it does`);
      for (const flag of Object.keys(command.options))
        assert.match(res.out, new RegExp(`^  --${flag}\\b.* \\S`, 'm'), `${name} --help explains --${flag}`);
    }
  }
  const overview = await cli(['--help']);
  assert.equal(overview.code, 0);
  for (const name of Object.keys(COMMANDS)) assert.match(overview.out, new RegExp(`^  ${name} `, 'm'));
});

test("an unknown flag points at the command's --help", async () => {
  const res = await cli(['run', '--verbose']);
  assert.equal(res.code, 2);
  assert.match(res.err, /Unknown option '--verbose'/);
  assert.match(res.err, /"edgeloop-agent run --help" lists its options/);
});
