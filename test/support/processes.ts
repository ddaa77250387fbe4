/**
 * @module support/processes
 * Fleet server and agent as separate OS processes, the way they run in production: started
 * through their CLIs, ready when they print their JSON "ready" line, killable with any signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { EnrollResponse } from '@edgeloop/protocol';
import { TEST_ADMIN_TOKEN, TEST_MQTT_SERVER } from './fleet-client.js';
import { freshDatabase, type StoreKind } from './stores.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_CLI = join(REPO, 'fleet-server/src/cli/edgeloop.ts');
const AGENT_CLI = join(REPO, 'agent/src/cli.ts');

export interface Proc<Ready> {
  child: ChildProcess;
  ready: Ready;
  /** Everything the process wrote to stdout and stderr (its pino log, JSON lines) so far. */
  logs(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `nodeFlags` undefined = run the script through tsx; otherwise plain node with these flags. */
async function start<Ready>(
  script: string,
  args: string[],
  what: string,
  env: NodeJS.ProcessEnv = {},
  nodeFlags?: string[],
): Promise<Proc<Ready>> {
  const child = spawn(process.execPath, [...(nodeFlags ?? ['--import', 'tsx']), script, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stdout!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  // A process that never got ready is killed before the error goes up: left running, it would
  // keep the test file's process (and so the whole suite) alive after the test failed.
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not become ready in 30 s:\n${output}`)), 30_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string };
        if (msg.event === 'ready') {
          clearTimeout(timer);
          resolve(msg as Ready);
        }
      } catch {
        // not our line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before it was ready:\n${output}`));
    });
  }).catch(async (err: unknown) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    throw err;
  });
  return {
    child,
    ready,
    logs: () => output,
    exited,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export { TEST_ADMIN_TOKEN, TEST_MQTT_SERVER };

export interface ServerReady {
  httpUrl: string;
  mqttUrl: string;
  publicKey: string;
  keyId: string;
  /** Admin token for the REST API (TEST_ADMIN_TOKEN). */
  adminToken: string;
  /** Full-access MQTT login of the embedded broker (TEST_MQTT_SERVER). */
  mqttAdmin: { username: string; password: string };
}
export interface AgentReady {
  deviceId: string;
  apiUrl: string;
  stream: string;
}

/**
 * PostgreSQL database per data directory, so that a server restarted on the same data directory
 * finds the same store. The databases go with the test process's PostgreSQL server.
 */
const databases = new Map<string, Promise<{ url: string } | undefined>>();

/**
 * Ports default to 0 (any free one); a restart test passes the ports of the first run. The
 * store defaults to SQLite in the data directory; `store: 'postgres'` gives the data directory a
 * fresh PostgreSQL database (`--db`) on its first start and the same one on every later start,
 * and needs a test skipped when storeSkip('postgres') says so (support/stores.ts). The
 * server accepts TEST_ADMIN_TOKEN (`ready.adminToken`); runCli sends it. It checks its answers
 * against the REST contract (EDGELOOP_VALIDATE_RESPONSES).
 */
export async function startServerProcess(
  dataDir: string,
  extra: string[] = [],
  options: { http?: number; mqtt?: number; store?: StoreKind } = {},
): Promise<Proc<ServerReady>> {
  const ports = options;
  const store = options.store ?? 'sqlite';
  let database = databases.get(dataDir);
  if (!database) {
    database = freshDatabase(store);
    databases.set(dataDir, database);
  }
  const db = await database;
  if ((db !== undefined) !== (store === 'postgres'))
    throw new Error(`${dataDir} was first started on another store than ${store}: a restart keeps its store`);
  const args = [
    'serve',
    '--data',
    dataDir,
    ...(db ? ['--db', db.url] : []),
    '--http-port',
    String(ports.http ?? 0),
    '--mqtt-port',
    String(ports.mqtt ?? 0),
    '--json',
    ...extra,
  ];
  // Every answer is checked against the REST contract; one that breaks it is answered 500.
  const env = {
    EDGELOOP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    EDGELOOP_MQTT_SERVER_PASSWORD: TEST_MQTT_SERVER.password,
    EDGELOOP_VALIDATE_RESPONSES: '1',
    // The store is the test's choice, never an EDGELOOP_DB_URL in the developer's environment.
    EDGELOOP_DB_URL: '',
  };
  // EDGELOOP_SERVER_CPU_PROF=DIR: the server writes a V8 CPU profile into DIR when it exits
  // (load runs: where the server's CPU goes; the harness and devices stay unprofiled).
  const profDir = process.env.EDGELOOP_SERVER_CPU_PROF;
  const nodeFlags = profDir ? ['--import', 'tsx', '--cpu-prof', '--cpu-prof-dir', profDir] : undefined;
  const proc = await start<Omit<ServerReady, 'adminToken' | 'mqttAdmin'>>(
    SERVER_CLI,
    args,
    'fleet server',
    env,
    nodeFlags,
  );
  return { ...proc, ready: { ...proc.ready, adminToken: TEST_ADMIN_TOKEN, mqttAdmin: { ...TEST_MQTT_SERVER } } };
}

/** Where a fleet server is and how to call its API as an admin (ServerReady or an in-process server). */
export interface FleetAccess {
  httpUrl: string;
  adminToken?: string | undefined;
}

/** fetch with the admin token; throws with the server's reason on a non-2xx answer. */
export async function adminJson<T>(server: FleetAccess, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.httpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${server.adminToken ?? TEST_ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/**
 * Enrolls a device the way a real one does: an admin creates a one-use enrollment token, the
 * device trades it at POST /api/v1/enroll. Returns its credentials and the fleet's addresses.
 */
export async function enrollDevice(
  server: FleetAccess,
  deviceId: string,
  opts: { group?: string; tags?: Record<string, string> } = {},
): Promise<EnrollResponse> {
  const { token } = await adminJson<{ token: string }>(server, 'POST', '/api/v1/enrollment-tokens', {
    uses: 1,
    ...opts,
  });
  const res = await fetch(`${server.httpUrl}/api/v1/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, deviceId }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`enrolling ${deviceId} → ${res.status} ${text}`);
  return JSON.parse(text) as EnrollResponse;
}

export function portOf(url: string): number {
  return Number(new URL(url).port);
}

/**
 * Writes `<dir>/<deviceId>.json`: an agent of this server, enrolled through the API (its broker
 * username and password are in the config), API on a free port, state in `<dir>/<deviceId>`.
 * Calling it again for the same file keeps the credentials already in it (a running agent is not
 * kicked by a re-enrollment). `extra.fleet` with a password skips enrollment (e.g. credentials
 * for another broker). Reconnect backoff is capped at 1 s so outage tests do not wait for the
 * production ceiling (60 s).
 */
export async function writeAgentConfig(
  server: ServerReady | (FleetAccess & { mqttUrl: string; publicKey: string }),
  dir: string,
  deviceId: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const path = join(dir, `${deviceId}.json`);
  const extraFleet = (extra.fleet ?? {}) as Record<string, unknown>;
  let creds: { username: string; password: string } | undefined;
  if (typeof extraFleet.password !== 'string') {
    const previous = existsSync(path)
      ? (JSON.parse(readFileSync(path, 'utf8')) as { fleet?: { username?: string; password?: string } }).fleet
      : undefined;
    creds =
      previous?.username && previous.password
        ? { username: previous.username, password: previous.password }
        : await enrollDevice(server, deviceId);
  }
  const config = {
    deviceId,
    dataDir: join(dir, deviceId),
    api: { port: 0 },
    ...extra,
    fleet: {
      mqttUrl: server.mqttUrl,
      httpUrl: server.httpUrl,
      trustedKeys: [server.publicKey],
      reconnectMinMs: 200,
      reconnectMaxMs: 1000,
      ...(creds ? { username: creds.username, password: creds.password } : {}),
      ...extraFleet,
    },
  };
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 });
  return path;
}

/**
 * How a device runs the agent: the node flags of the systemd unit's ExecStart and its
 * Environment= settings (e.g. the malloc tuning), read from the unit itself so that benchmarks
 * of the bundled agent cannot drift from what install.sh lays down.
 */
export function deviceRuntime(): { nodeFlags: string[]; env: Record<string, string> } {
  const unit = readFileSync(join(REPO, 'firmware-scripts/systemd/edgeloop-agent.service'), 'utf8');
  const exec = /^ExecStart=\S*env node((?:\s+-\S+)*)\s+\S+\/edgeloop-agent\.js\s/m.exec(unit);
  if (!exec)
    throw new Error('the systemd unit has no "ExecStart=/usr/bin/env node [flags] .../edgeloop-agent.js" line');
  const env: Record<string, string> = {};
  for (const [, key, value] of unit.matchAll(/^Environment=([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/gm)) env[key!] = value!;
  return { nodeFlags: exec[1]!.trim().split(/\s+/).filter(Boolean), env };
}

/**
 * `bundle`: run agent/dist/edgeloop-agent.mjs (npm run build) on plain node with the flags and
 * environment of the systemd unit, as on a device.
 */
export function startAgentProcess(configPath: string, opts: { bundle?: boolean } = {}): Promise<Proc<AgentReady>> {
  const args = ['run', '--config', configPath, '--json'];
  if (!opts.bundle) return start<AgentReady>(AGENT_CLI, args, 'agent');
  const device = deviceRuntime();
  return start<AgentReady>(
    join(REPO, 'agent/dist/edgeloop-agent.mjs'),
    args,
    'agent (bundle)',
    device.env,
    device.nodeFlags,
  );
}

/** Runs the operator CLI to completion, as admin (EDGELOOP_TOKEN; `token: null` sends none). */
export function runCli(
  args: string[],
  serverUrl: string,
  opts: { token?: string | null } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const token = opts.token === undefined ? TEST_ADMIN_TOKEN : opts.token;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.EDGELOOP_TOKEN;
  if (token !== null) env.EDGELOOP_TOKEN = token;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER_CLI, '--server', serverUrl, ...args], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
