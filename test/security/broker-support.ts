/**
 * @module security/broker-support
 * For the embedded-broker attack tests: a fleet server (real aedes on a free port) whose log is
 * captured line by line, raw MQTT 3.1.1 packets built by hand (so a test can announce a size it
 * never sends, or send what no client library would), a raw socket that records what the broker
 * answers and when it closes, and /metrics as the test reads it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startFleetServer, type FleetConfigInput, type RunningFleetServer } from '@edgeloop/fleet-server';
import { TEST_ADMIN_TOKEN, TEST_MQTT_SERVER } from '../support/fleet-client.js';
import { portOf } from '../support/processes.js';
import { encodeRemainingLength } from '@edgeloop/fleet-server/testing';

export interface BrokerFleet {
  server: RunningFleetServer;
  /** Every log line the server wrote, parsed. */
  logs: Array<{ level: number; msg: string } & Record<string, unknown>>;
  enroll(deviceId: string): Promise<{ username: string; password: string }>;
  close(): Promise<void>;
}

type EmbeddedMqtt = Extract<NonNullable<FleetConfigInput['mqtt']>, { mode: 'embedded' }>;

export async function startBrokerFleet(mqtt: Partial<Omit<EmbeddedMqtt, 'mode'>> = {}): Promise<BrokerFleet> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-broker-'));
  const logs: BrokerFleet['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        logs.push(JSON.parse(line) as BrokerFleet['logs'][number]);
      done();
    },
  });
  const server = await startFleetServer(
    {
      dataDir: join(dir, 'fleet'),
      http: { port: 0 },
      mqtt: { mode: 'embedded', port: 0, serverPassword: TEST_MQTT_SERVER.password, ...mqtt },
      adminToken: TEST_ADMIN_TOKEN,
      validateResponses: true,
    },
    pino({ level: 'info' }, sink),
  );
  return {
    server,
    logs,
    async enroll(deviceId) {
      const { token } = await server.identity.enrollmentTokens.create({ uses: 1 }, 'test');
      const e = await server.identity.enroll({ token, deviceId });
      return { username: e.username, password: e.password };
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** pino's warn level. */
export const WARN = 40;

function utf8(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

/** §3.1 CONNECT, protocol level 4, clean session, keep alive 60 s; the will at QoS 1. */
export function connectPacket(
  clientId: string,
  username?: string,
  password?: string,
  will?: { topic: string; payload: Buffer; retain?: boolean },
): Buffer {
  const flags =
    0x02 |
    (username !== undefined ? 0x80 : 0) |
    (password !== undefined ? 0x40 : 0) |
    (will ? 0x04 | 0x08 | (will.retain ? 0x20 : 0) : 0);
  const willBytes = will
    ? [utf8(will.topic), Buffer.from([will.payload.length >> 8, will.payload.length & 0xff]), will.payload]
    : [];
  const body = Buffer.concat([
    utf8('MQTT'),
    Buffer.from([4, flags, 0, 60]),
    utf8(clientId),
    ...willBytes,
    ...(username !== undefined ? [utf8(username)] : []),
    ...(password !== undefined ? [utf8(password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), encodeRemainingLength(body.length), body]);
}

/** §3.8 SUBSCRIBE (packet id 1) to one filter at QoS 1. */
export function subscribePacket(filter: string): Buffer {
  const body = Buffer.concat([Buffer.from([0, 1]), utf8(filter), Buffer.from([1])]);
  return Buffer.concat([Buffer.from([0x82]), encodeRemainingLength(body.length), body]);
}

/** The fixed header of a CONNECT announcing `bodyBytes`, and the start of a plausible body. */
export function hugeConnectStart(bodyBytes: number): Buffer {
  return Buffer.concat([
    Buffer.from([0x10]),
    encodeRemainingLength(bodyBytes),
    utf8('MQTT'),
    Buffer.from([4, 0x02, 0, 60]),
  ]);
}

/** §3.3 PUBLISH at QoS 1 (packet id 1): the fixed header and variable header; the payload follows. */
export function publishHead(topic: string, payloadBytes: number, opts: { retain?: boolean } = {}): Buffer {
  const variable = Buffer.concat([utf8(topic), Buffer.from([0, 1])]);
  return Buffer.concat([
    Buffer.from([0x32 | (opts.retain ? 1 : 0)]),
    encodeRemainingLength(variable.length + payloadBytes),
    variable,
  ]);
}

export function publishPacket(topic: string, payload: Buffer, opts: { retain?: boolean } = {}): Buffer {
  return Buffer.concat([publishHead(topic, payload.length, opts), payload]);
}

/** A raw TCP connection to the broker that records what comes back and when it closed. */
export interface RawClient {
  socket: Socket;
  received(): Buffer;
  /** CONNACK's return code, once one arrived (§3.2.2.3: 0 accepted). */
  connack(): number | undefined;
  /** Whether a PUBACK (type 4) came back. */
  gotPuback(): boolean;
  /** How many packets of this type (§2.2.1: 4 PUBACK, 9 SUBACK, 3 PUBLISH) came back. */
  count(type: number): number;
  closed: Promise<number>;
  isClosed(): boolean;
}

export async function rawClient(mqttUrl: string, localAddress?: string): Promise<RawClient> {
  const socket = connect({ port: portOf(mqttUrl), host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
  const chunks: Buffer[] = [];
  let isClosed = false;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      resolve(Date.now());
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const received = () => Buffer.concat(chunks);
  return {
    socket,
    received,
    connack: () => {
      const b = received();
      return b.length >= 4 && b[0] === 0x20 ? b[3] : undefined;
    },
    gotPuback: () => countPackets(received(), 4) > 0,
    count: (type) => countPackets(received(), type),
    closed,
    isClosed: () => isClosed,
  };
}

/** Walks the packets the broker sent (CONNACK, then anything else), counting those of `type`. */
function countPackets(b: Buffer, type: number): number {
  let n = 0;
  let i = 0;
  while (i < b.length) {
    let len = 0;
    let mul = 1;
    let j = i + 1;
    for (;;) {
      const byte = b[j++];
      if (byte === undefined) return n;
      len += (byte & 0x7f) * mul;
      mul *= 128;
      if (!(byte & 0x80)) break;
    }
    if (j + len > b.length) return n;
    if (b[i]! >> 4 === type) n++;
    i = j + len;
  }
  return n;
}

/** Writes `total` bytes of zeros in 64 KiB chunks until done or the broker closes the socket; the bytes written. */
export async function streamZeros(client: RawClient, total: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  while (written < total && !client.isClosed() && !client.socket.destroyed) {
    const n = Math.min(chunk.length, total - written);
    const more = client.socket.write(chunk.subarray(0, n));
    written += n;
    if (!more) {
      await Promise.race([new Promise((r) => client.socket.once('drain', r)), client.closed]);
    }
  }
  return written;
}

/** Logs in a raw client with the given credentials and waits for the CONNACK. */
export async function rawLogin(
  mqttUrl: string,
  clientId: string,
  username: string,
  password: string,
): Promise<RawClient> {
  const client = await rawClient(mqttUrl);
  client.socket.write(connectPacket(clientId, username, password));
  const deadline = Date.now() + 5000;
  while (client.connack() === undefined && !client.isClosed() && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  if (client.connack() !== 0) throw new Error(`login as ${username} refused: CONNACK ${client.connack()}`);
  return client;
}

/** GET /metrics as admin: the samples by name and label set, e.g. `edgeloop_broker_refused_total{reason="auth"}`. */
export async function metrics(httpUrl: string): Promise<Map<string, number>> {
  const res = await fetch(`${httpUrl}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  if (!res.ok) throw new Error(`GET /metrics → ${res.status} ${await res.text()}`);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

export const refused = (m: Map<string, number>, reason: string) =>
  m.get(`edgeloop_broker_refused_total{reason="${reason}"}`) ?? 0;

export function rssMb(): number {
  return process.memoryUsage().rss / 1024 / 1024;
}
