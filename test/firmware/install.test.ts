/**
 * firmware-scripts/install.sh and uninstall.sh, run for real but into a
 * staging root (--root) with a fake sysroot (EDGELOOP_SYSROOT) and a fixed `uname -m`
 * (EDGELOOP_MACHINE), so nothing on this machine changes and the result does not depend on the
 * hardware the tests run on. --no-deps skips `npm ci`; the config is written by the real
 * `edgeloop-agent init` from this checkout.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePublicKey, generateKeyPair } from '@edgeloop/protocol';
import { loadAgentConfig } from '@edgeloop/agent';
import { startTestFleet } from '../support/in-process-fleet.js';
import { startTlsFleet } from '../support/tls.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const INSTALL = join(REPO, 'firmware-scripts/install.sh');
const UNINSTALL = join(REPO, 'firmware-scripts/uninstall.sh');
const PRUNE = join(REPO, 'firmware-scripts/prune-node-modules.sh');
const KEY = encodePublicKey(generateKeyPair().publicKey);
const MQTT_URL = 'mqtt://fleet.example:18830';
const PI_MODEL = 'Raspberry Pi 4 Model B Rev 1.4';
const JETSON_RELEASE =
  '# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, DATE: Tue Aug  1 19:57:35 UTC 2023\n';

interface Run {
  code: number | null;
  stdout: string;
  /** stdout then stderr: enough to match messages, not to check their order. */
  out: string;
}

/** A temp dir with `sysroot/` (files given relative to it) and `root/` (the --root target). */
function scratch(
  t: TestContext,
  sysrootFiles: Record<string, string> = {},
): { dir: string; sysroot: string; root: string } {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-install-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sysroot = join(dir, 'sysroot');
  mkdirSync(sysroot);
  for (const [path, content] of Object.entries(sysrootFiles)) {
    mkdirSync(dirname(join(sysroot, path)), { recursive: true });
    writeFileSync(join(sysroot, path), content);
  }
  return { dir, sysroot, root: join(dir, 'root') };
}

/** Runs the script directly, so its shebang and executable bit are tested too. */
function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(script, args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, EDGELOOP_MACHINE: 'aarch64', ...env },
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, out: r.stdout + r.stderr };
}

/** Like run, without blocking the event loop: for tests whose fleet server runs in this process. */
function runAsync(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(script, args, { env: { ...process.env, EDGELOOP_MACHINE: 'aarch64', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, out: stdout + stderr }));
  });
}

function install(s: { sysroot: string; root: string }, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Run {
  const base = ['--root', s.root, '--no-deps', '--source', REPO, '--device-id', 'test-pi'];
  const withDefaults = extra.includes('--mqtt-url') ? extra : ['--mqtt-url', MQTT_URL, ...extra];
  const withKey = withDefaults.includes('--trusted-key') ? withDefaults : ['--trusted-key', KEY, ...withDefaults];
  return run(INSTALL, [...base, ...withKey], { EDGELOOP_SYSROOT: s.sysroot, ...env });
}

function assertOk(r: Run): void {
  assert.equal(r.code, 0, `exit ${r.code}:\n${r.out}`);
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    out.push(full);
    if (entry.isDirectory()) walk(full, out);
  }
  return out;
}

test('shellcheck finds nothing in install.sh, uninstall.sh and prune-node-modules.sh', (t) => {
  if (spawnSync('shellcheck', ['--version']).error) {
    const why = 'shellcheck not installed: apt-get install shellcheck';
    console.warn(`\n!!! WARNING: ${why}; the firmware scripts are NOT linted !!!\n`);
    t.diagnostic(why);
    t.skip(why);
    return;
  }
  const r = spawnSync('shellcheck', ['--severity=style', INSTALL, UNINSTALL, PRUNE], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

// verify exits 0 even for misspelt keys (it only warns), so the warnings are what is checked.
test('systemd-analyze accepts every line of the unit', (t) => {
  const unit = join(REPO, 'firmware-scripts/systemd/edgeloop-agent.service');
  const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
  if (r.error) {
    t.skip('systemd-analyze not installed (package systemd)');
    return;
  }
  assert.doesNotMatch(r.stderr, /unknown (key|section)|invalid|failed to parse/i, r.stderr);
});

test('install on a Raspberry Pi lays down the agent, config, state dir and unit', (t) => {
  const s = scratch(t, { 'proc/device-tree/model': `${PI_MODEL}\0` });
  const r = install(s);
  assertOk(r);

  const lines = r.stdout.trim().split('\n');
  assert.ok(
    lines.every((l) => l.startsWith('[edgeloop install] ')),
    `every line is a progress line:\n${r.stdout}`,
  );
  for (const expected of [
    `platform: ${PI_MODEL}`,
    'architecture: arm64',
    'copying the agent',
    'wrote ',
    'would run: useradd',
    'would run: usermod -aG video',
    'installed the systemd unit',
    'would run: systemctl',
  ]) {
    assert.ok(r.stdout.includes(expected), `output mentions "${expected}":\n${r.stdout}`);
  }

  const app = join(s.root, 'opt/edgeloop/agent');
  for (const file of [
    'agent/src/cli.ts',
    'agent/bin/edgeloop-agent.js',
    'protocol/src/index.ts',
    'package.json',
    'package-lock.json',
  ]) {
    assert.ok(existsSync(join(app, file)), `${file} is installed`);
  }
  // npm ci would install the dependencies of any workspace present (models: protobufjs).
  assert.deepEqual(
    readdirSync(app).sort(),
    ['agent', 'package-lock.json', 'package.json', 'protocol'],
    'only the agent, the protocol and the workspace root',
  );
  const files = walk(app);
  assert.deepEqual(
    files.filter((f) => f.endsWith('.test.ts')),
    [],
    'no tests are installed',
  );
  assert.deepEqual(
    files.filter((f) => f.endsWith('/node_modules')),
    [],
    'no node_modules are copied',
  );

  const configPath = join(s.root, 'etc/edgeloop/agent.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
    deviceId: string;
    dataDir: string;
    fleet: { mqttUrl: string; trustedKeys: string[] };
  };
  assert.equal(config.deviceId, 'test-pi');
  assert.equal(config.dataDir, '/var/lib/edgeloop', 'the path as the device sees it, not the staging path');
  assert.equal(config.fleet.mqttUrl, MQTT_URL);
  assert.deepEqual(config.fleet.trustedKeys, [KEY]);
  assert.equal(mode(configPath) & ~0o640, 0, `config mode ${mode(configPath).toString(8)} is 0640 or stricter`);
  assert.equal(mode(join(s.root, 'var/lib/edgeloop')), 0o750);

  const unit = readFileSync(join(s.root, 'etc/systemd/system/edgeloop-agent.service'), 'utf8');
  for (const line of [
    /^User=edgeloop$/m,
    /^SupplementaryGroups=video$/m,
    /^Restart=on-failure$/m,
    /^ProtectSystem=strict$/m,
    /^(StateDirectory=edgeloop|ReadWritePaths=.*\/var\/lib\/edgeloop)$/m,
  ]) {
    assert.match(unit, line);
  }
  assert.match(
    unit,
    /^ExecStart=.* \/opt\/edgeloop\/agent\/agent\/bin\/edgeloop-agent\.js run --config \/etc\/edgeloop\/agent\.json$/m,
  );
  assert.doesNotMatch(unit, /^MemoryDenyWriteExecute=/m, 'V8 needs writable+executable memory');
});

test('install recognises a Jetson and an armv7 board', async (t) => {
  await t.test('Jetson via /etc/nv_tegra_release', (t) => {
    const r = install(scratch(t, { 'etc/nv_tegra_release': JETSON_RELEASE }));
    assertOk(r);
    assert.match(r.stdout, /platform: NVIDIA Jetson L4T R35\.4\.1/);
    assert.match(r.stdout, /would run: usermod -aG video edgeloop/);
  });
  await t.test('32-bit Pi OS: the WASM backend is announced', (t) => {
    const r = install(scratch(t, { 'proc/device-tree/model': 'Raspberry Pi 3 Model B Rev 1.2\0' }), [], {
      EDGELOOP_MACHINE: 'armv7l',
    });
    assertOk(r);
    assert.match(r.stdout, /architecture: armv7/);
    assert.match(r.stdout, /WASM backend/);
  });
});

// The backend workspaces left in the copy are what `npm ci` installs ONNX Runtime for: a
// backend workspace present there gets its package installed whatever the --workspace filter.
test('each CPU gets only the ONNX Runtime package it can run', async (t) => {
  const cases: Array<{ machine: string; extra?: string[]; announced: RegExp; backends: string[] }> = [
    { machine: 'armv7l', announced: /ONNX Runtime backend: onnxruntime-web \(WASM\)/, backends: ['wasm'] },
    {
      machine: 'aarch64',
      announced: /ONNX Runtime backend: onnxruntime-node \(native; --with-wasm adds the WASM one\)/,
      backends: ['native'],
    },
    { machine: 'x86_64', announced: /ONNX Runtime backend: onnxruntime-node \(native/, backends: ['native'] },
    {
      machine: 'aarch64',
      extra: ['--with-wasm'],
      announced: /ONNX Runtime backends: onnxruntime-node \(native\) and onnxruntime-web \(WASM, --with-wasm\)/,
      backends: ['native', 'wasm'],
    },
    {
      machine: 'armv7l',
      extra: ['--with-wasm'],
      announced: /ONNX Runtime backend: onnxruntime-web \(WASM\)/,
      backends: ['wasm'],
    },
  ];
  for (const c of cases) {
    await t.test(`${c.machine} ${c.extra?.join(' ') ?? ''}`.trim(), (t) => {
      const s = scratch(t, { 'proc/device-tree/model': `${PI_MODEL}\0` });
      const r = install(s, c.extra ?? [], { EDGELOOP_MACHINE: c.machine });
      assertOk(r);
      assert.match(r.stdout, c.announced);
      assert.deepEqual(readdirSync(join(s.root, 'opt/edgeloop/agent/agent/backends')).sort(), c.backends);
    });
  }
});

test('a second install keeps the config; --force-config rewrites it', (t) => {
  const s = scratch(t, { 'proc/device-tree/model': `${PI_MODEL}\0` });
  assertOk(install(s));
  const configPath = join(s.root, 'etc/edgeloop/agent.json');
  const before = { content: readFileSync(configPath, 'utf8'), mtime: statSync(configPath).mtimeMs };

  const again = install(s, ['--mqtt-url', 'mqtt://other.example:1883']);
  assertOk(again);
  assert.match(again.stdout, /keeping the existing config/);
  assert.equal(readFileSync(configPath, 'utf8'), before.content);
  assert.equal(statSync(configPath).mtimeMs, before.mtime);
  assert.deepEqual(readdirSync(join(s.root, 'opt/edgeloop')), ['agent'], 'no agent.new / agent.old left behind');

  assertOk(install(s, ['--mqtt-url', 'mqtt://other.example:1883', '--force-config']));
  assert.match(readFileSync(configPath, 'utf8'), /mqtt:\/\/other\.example:1883/);
});

test(
  "install --fleet --token enrolls the device: the config gets its credentials and the fleet's broker and keys",
  { timeout: 120_000 },
  async (t) => {
    const fleet = await startTestFleet();
    t.after(() => fleet.close());
    const { token } = await fleet.server.identity.enrollmentTokens.create({ uses: 1, group: 'line-3' }, 'test');
    const s = scratch(t, { 'proc/device-tree/model': `${PI_MODEL}\0` });
    const base = [
      '--root',
      s.root,
      '--no-deps',
      '--source',
      REPO,
      '--device-id',
      'test-pi',
      '--fleet',
      fleet.server.httpUrl,
    ];
    const r = await runAsync(INSTALL, [...base, '--token', token], { EDGELOOP_SYSROOT: s.sysroot });
    assertOk(r);
    assert.match(r.stdout, /\[edgeloop install\] enrolling device test-pi with http/);
    assert.doesNotMatch(r.out, /"password"|password:/, 'the password is never printed');

    const configPath = join(s.root, 'etc/edgeloop/agent.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
      deviceId: string;
      dataDir: string;
      fleet: { mqttUrl: string; username: string; password: string; trustedKeys: string[] };
    };
    assert.equal(config.deviceId, 'test-pi');
    assert.equal(config.dataDir, '/var/lib/edgeloop');
    assert.equal(config.fleet.mqttUrl, fleet.server.mqttUrl);
    assert.deepEqual(config.fleet.trustedKeys, [fleet.server.publicKey]);
    assert.equal(config.fleet.username, 'test-pi');
    assert.deepEqual(
      await fleet.server.identity.authenticateDevice('test-pi', config.fleet.password),
      { ok: true },
      'the written password is the one the fleet accepts',
    );
    assert.equal(mode(configPath) & ~0o640, 0, `config mode ${mode(configPath).toString(8)} is 0640 or stricter`);
    assert.equal((await fleet.server.devices.get('test-pi'))?.group, 'line-3', "the token's group is applied");

    const again = await runAsync(INSTALL, [...base, '--token', token], { EDGELOOP_SYSROOT: s.sysroot });
    assertOk(again);
    assert.match(again.stdout, /keeping the existing config .* --token is not used/);
    const reused = await runAsync(INSTALL, [...base, '--token', token, '--force-config'], {
      EDGELOOP_SYSROOT: s.sysroot,
    });
    assert.notEqual(reused.code, 0);
    assert.match(
      reused.out,
      /enrollment failed: the fleet server refused the enrollment: this enrollment token has been used up .*edgeloop tokens create/,
    );
    assert.deepEqual(
      await fleet.server.identity.authenticateDevice('test-pi', config.fleet.password),
      { ok: true },
      'a refused re-enrollment leaves the credential alone',
    );

    const noFleet = run(INSTALL, ['--root', s.root, '--no-deps', '--token', token], { EDGELOOP_SYSROOT: s.sysroot });
    assert.notEqual(noFleet.code, 0);
    assert.match(noFleet.out, /--token needs --fleet URL/);
  },
);

test(
  "install --fleet https://… --ca-fingerprint pins the fleet CA: fleet.ca beside the config, readable by the agent's group only",
  { timeout: 120_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-install-tls-'));
    const fleet = await startTlsFleet(join(dir, 'fleet'));
    t.after(async () => {
      await fleet.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const { token } = await fleet.identity.enrollmentTokens.create({ uses: 1 }, 'test');
    const s = scratch(t, { 'proc/device-tree/model': `${PI_MODEL}\0` });
    const base = [
      '--root',
      s.root,
      '--no-deps',
      '--source',
      REPO,
      '--device-id',
      'tls-pi',
      '--fleet',
      fleet.httpUrl,
      '--token',
      token,
    ];
    const r = await runAsync(INSTALL, [...base, '--ca-fingerprint', fleet.tls.caFingerprint], {
      EDGELOOP_SYSROOT: s.sysroot,
    });
    assertOk(r);
    assert.match(r.stdout, /pinned the fleet CA/);
    const config = JSON.parse(readFileSync(join(s.root, 'etc/edgeloop/agent.json'), 'utf8')) as {
      fleet: { mqttUrl: string; ca: string };
    };
    assert.equal(config.fleet.mqttUrl, fleet.mqttUrl);
    // Relative to the config, so the staged image finds it at /etc/edgeloop/fleet-ca.pem on the device.
    assert.equal(config.fleet.ca, 'fleet-ca.pem');
    const caFile = loadAgentConfig(join(s.root, 'etc/edgeloop/agent.json')).fleet.ca!;
    assert.equal(caFile, join(s.root, 'etc/edgeloop/fleet-ca.pem'));
    assert.equal(mode(caFile), 0o640);
    assert.equal(readFileSync(caFile, 'utf8').trim(), readFileSync(fleet.tls.caFile, 'utf8').trim());

    const orphan = run(INSTALL, ['--root', s.root, '--no-deps', '--ca-fingerprint', fleet.tls.caFingerprint], {
      EDGELOOP_SYSROOT: s.sysroot,
    });
    assert.notEqual(orphan.code, 0);
    assert.match(orphan.out, /--ca-fingerprint goes with --fleet https:\/\/… --token T/);
  },
);

test('install refuses bad input with a message that says what to do', async (t) => {
  await t.test('--help', () => {
    const r = run(INSTALL, ['--help']);
    assertOk(r);
    assert.match(r.stdout, /usage: .*install\.sh --mqtt-url URL --trusted-key KEY/);
  });
  await t.test('missing --mqtt-url', (t) => {
    const s = scratch(t);
    const r = run(INSTALL, ['--root', s.root, '--no-deps', '--trusted-key', KEY], { EDGELOOP_SYSROOT: s.sysroot });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /--mqtt-url URL is required/);
    assert.ok(!existsSync(join(s.root, 'opt/edgeloop')), 'nothing is laid down');
  });
  await t.test("invalid trusted key: the agent config validation's message", (t) => {
    const s = scratch(t);
    const r = install(s, ['--trusted-key', 'bm90LWEta2V5']);
    assert.notEqual(r.code, 0);
    assert.match(
      r.out,
      /the agent refused the settings: .*fleet\.trustedKeys\.0: must be a base64 ed25519 public key \(32 bytes\)/,
    );
    assert.ok(!existsSync(join(s.root, 'etc/edgeloop/agent.json')), 'no config is written');
  });
  await t.test("invalid broker URL: the agent config validation's message", (t) => {
    const s = scratch(t);
    const r = install(s, ['--mqtt-url', 'http://fleet.example']);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /the agent refused the settings: .*must be an mqtt:\/\//);
  });
  await t.test('Node.js older than 20.9', (t) => {
    const s = scratch(t);
    // A fake `node` first on PATH that logs how it was called and claims to be 18.
    const bin = join(s.dir, 'bin');
    const calls = join(s.dir, 'node-calls.log');
    mkdirSync(bin);
    writeFileSync(join(bin, 'node'), `#!/bin/sh\necho "$*" >> '${calls}'\necho v18.19.0\n`, { mode: 0o755 });
    const r = install(s, [], { PATH: `${bin}:${process.env.PATH}` });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /Node\.js v18\.19\.0 \(.*\) is too old, EdgeLoop needs 20\.9 or newer; install Node\.js 20/);
    assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), ['--version'], 'node only asked for its version');
    assert.ok(!existsSync(join(s.root, 'etc/edgeloop/agent.json')), 'init was not reached');
  });
});

test('uninstall keeps data and config unless --purge, and can run twice', (t) => {
  const s = scratch(t, { 'proc/device-tree/model': `${PI_MODEL}\0` });
  assertOk(install(s));
  const at = (p: string): boolean => existsSync(join(s.root, p));

  const keep = run(UNINSTALL, ['--root', s.root]);
  assertOk(keep);
  assert.match(keep.stdout, /kept .*\/var\/lib\/edgeloop .*--purge/);
  assert.ok(!at('opt/edgeloop') && !at('etc/systemd/system/edgeloop-agent.service'), 'code and unit are gone');
  assert.ok(at('var/lib/edgeloop') && at('etc/edgeloop/agent.json'), 'data and config are kept');
  assertOk(run(UNINSTALL, ['--root', s.root]));

  const purge = run(UNINSTALL, ['--root', s.root, '--purge']);
  assertOk(purge);
  assert.match(purge.stdout, /would run: userdel edgeloop/);
  assert.ok(!at('var/lib/edgeloop') && !at('etc/edgeloop'), 'data and config are gone');
  assertOk(run(UNINSTALL, ['--root', s.root, '--purge']));
});
