/**
 * @module support/processes
 * Fleet server and agent as separate OS processes, the way they run in production: started
 * through their CLIs, ready when they print their JSON "ready" line, killable with any signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

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
async function start<Ready>(script: string, args: string[], what: string, env: NodeJS.ProcessEnv = {}, nodeFlags?: string[]): Promise<Proc<Ready>> {
  const child = spawn(process.execPath, [...(nodeFlags ?? ['--import', 'tsx']), script, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
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

export interface ServerReady { httpUrl: string; mqttUrl: string; publicKey: string; keyId: string }
export interface AgentReady { deviceId: string; apiUrl: string; stream: string }

/** Ports default to 0 (any free one); a restart test passes the ports of the first run. */
export function startServerProcess(dataDir: string, extra: string[] = [], ports: { http?: number; mqtt?: number } = {}): Promise<Proc<ServerReady>> {
  const args = ['serve', '--data', dataDir, '--http-port', String(ports.http ?? 0), '--mqtt-port', String(ports.mqtt ?? 0), '--json', ...extra];
  return start<ServerReady>(SERVER_CLI, args, 'fleet server');
}

export function portOf(url: string): number {
  return Number(new URL(url).port);
}

/**
 * Writes `<dir>/<deviceId>.json`: an agent of this server, API on a free port, state in
 * `<dir>/<deviceId>`. Reconnect backoff is capped at 1 s so outage tests do not wait for the
 * production ceiling (60 s).
 */
export function writeAgentConfig(server: ServerReady, dir: string, deviceId: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `${deviceId}.json`);
  const config = {
    deviceId,
    dataDir: join(dir, deviceId),
    api: { port: 0 },
    ...extra,
    fleet: { mqttUrl: server.mqttUrl, trustedKeys: [server.publicKey], reconnectMinMs: 200, reconnectMaxMs: 1000, ...(extra.fleet as object | undefined) },
  };
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/**
 * `bundle`: run agent/dist/edgeloop-agent.mjs (npm run build) on plain node with the flags the
 * systemd unit uses, as on a device.
 */
export function startAgentProcess(configPath: string, opts: { bundle?: boolean } = {}): Promise<Proc<AgentReady>> {
  const args = ['run', '--config', configPath, '--json'];
  return opts.bundle
    ? start<AgentReady>(join(REPO, 'agent/dist/edgeloop-agent.mjs'), args, 'agent (bundle)', {}, ['--max-semi-space-size=1'])
    : start<AgentReady>(AGENT_CLI, args, 'agent');
}

/** Runs the operator CLI to completion. */
export function runCli(args: string[], serverUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER_CLI, '--server', serverUrl, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
