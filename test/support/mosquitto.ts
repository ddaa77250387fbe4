/**
 * @module support/mosquitto
 * A private Mosquitto broker for a test, on a free port with its own config (never the machine's
 * 1883), optionally with a password file and ACL, and `mosquitto_pub` playing an existing sensor.
 * Missing programs are reported loudly. Also raw MQTT probes for attack tests: connect once and
 * report the broker's answer instead of retrying, collect what a subscription receives.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

const run = promisify(execFile);

export async function which(program: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${program}`]);
    return true;
  } catch {
    return false;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Mosquitto {
  url: string;
  port: number;
  child: ChildProcess;
  /** The pid file Mosquitto writes (what the fleet server signals to reload). */
  pidFile: string;
  /** Mosquitto's own log so far (connects, refusals, reloads). */
  logs(): string;
  stop(): Promise<void>;
}

export interface MosquittoOptions {
  /** With a password file, anonymous clients are refused (`allow_anonymous false`). */
  passwordFile?: string;
  aclFile?: string;
  /** `use_username_as_clientid true`: nobody can take over another user's client id. */
  usernameAsClientId?: boolean;
  /** A TLS-only listener (PEM files), as docs/external-broker.md configures it; the url is then mqtts://. */
  tls?: { cafile: string; certfile: string; keyfile: string };
  /** Where ports come from (default: a free one each time); tests of the retry hand out a taken one. */
  choosePort?: () => Promise<number>;
}

export async function startMosquitto(dir: string, opts: MosquittoOptions = {}): Promise<Mosquitto> {
  // A free port can be taken by another process between our probe and Mosquitto's bind (tests run
  // in parallel); Mosquitto then exits with "Address already in use" and we try another port.
  for (let attempt = 1; ; attempt++) {
    const started = await startMosquittoOnce(dir, await (opts.choosePort ?? freePort)(), opts);
    if ('broker' in started) return started.broker;
    if (!started.portTaken || attempt === 5) throw new Error(started.error);
  }
}

async function startMosquittoOnce(
  dir: string,
  port: number,
  opts: MosquittoOptions,
): Promise<{ broker: Mosquitto } | { error: string; portTaken: boolean }> {
  const conf = join(dir, 'mosquitto.conf');
  const pidFile = join(dir, 'mosquitto.pid');
  rmSync(pidFile, { force: true });
  const lines = [
    `listener ${port} 127.0.0.1`,
    `allow_anonymous ${opts.passwordFile ? 'false' : 'true'}`,
    'persistence false',
    `pid_file ${pidFile}`,
  ];
  if (opts.passwordFile) lines.push(`password_file ${opts.passwordFile}`);
  if (opts.aclFile) lines.push(`acl_file ${opts.aclFile}`);
  if (opts.usernameAsClientId) lines.push('use_username_as_clientid true');
  if (opts.tls)
    lines.push(
      `cafile ${opts.tls.cafile}`,
      `certfile ${opts.tls.certfile}`,
      `keyfile ${opts.tls.keyfile}`,
      'require_certificate false',
      'tls_version tlsv1.2',
    );
  // Started as root, Mosquitto drops to the "mosquitto" user and then cannot write its pid file
  // or read files in our temp dir; stay the user we are (no effect when not root).
  lines.push(`user ${userInfo().username}`, 'log_dest stderr', 'log_type all');
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // Mosquitto writes its pid file only once its listeners are bound, so a connect before that
  // could reach whoever else holds the port: wait for the pid file (or the exit) first.
  const deadline = Date.now() + 10_000;
  while (!existsSync(pidFile)) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await new Promise((r) => setTimeout(r, 50)); // the last stderr lines
      return {
        error: `mosquitto did not start on port ${port}: ${stderr}`,
        portTaken: /Address already in use/.test(stderr),
      };
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      return { error: `mosquitto did not write its pid file ${pidFile} within 10 s: ${stderr}`, portTaken: false };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1', () => {
        sock.end();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      return { error: `mosquitto did not accept connections on port ${port}: ${stderr}`, portTaken: false };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const broker: Mosquitto = {
    url: `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    child,
    pidFile,
    logs: () => stderr,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
  return { broker };
}

/** Publishes like a sensor would: the real mosquitto_pub client. */
/** `retain`: the broker keeps the message for subscribers that are not there yet (as many sensors publish). */
export async function mosquittoPub(
  port: number,
  topic: string,
  message: string,
  opts: { retain?: boolean } = {},
): Promise<void> {
  await run('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-q',
    '1',
    '-t',
    topic,
    '-m',
    message,
    ...(opts.retain ? ['-r'] : []),
  ]);
}

export type ConnectOutcome = { ok: true; client: MqttClient } | { ok: false; reason: string };

/** One CONNECT, no reconnects: the client, or why the broker said no. */
export function connectOnce(url: string, opts: IClientOptions = {}): Promise<ConnectOutcome> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, clean: true, ...opts });
  return new Promise((resolve) => {
    client.once('connect', () => resolve({ ok: true, client }));
    const fail = (reason: string) => {
      client.end(true);
      resolve({ ok: false, reason });
    };
    client.once('error', (err) => fail(err.message));
    client.once('close', () => fail('connection closed'));
  });
}

export async function connectOrThrow(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const outcome = await connectOnce(url, opts);
  if (!outcome.ok) throw new Error(`cannot connect as ${opts.username ?? 'anonymous'}: ${outcome.reason}`);
  return outcome.client;
}

/** Every message a client receives, with its topic, from now on. */
export function collect(client: MqttClient): Array<{ topic: string; payload: string }> {
  const got: Array<{ topic: string; payload: string }> = [];
  client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  return got;
}

/** Resolves when the broker closes this client's connection. */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) return resolve();
    client.once('close', () => resolve());
  });
}
