/**
 * @module bench/scale-devices
 * The device side of the scale benches, in its own process: thousands of devices on raw MQTT
 * 3.1.1 sockets (an MQTT.js client each would cost this process more than the server under
 * test). Each logs in with its enrolled credentials and a death as its will, subscribes to its
 * ack and desired topics and publishes its birth, as the agent does; a refused or dropped
 * connection retries after 0.5–2 s, as the agent's reconnect does.
 *
 * `connect`: prints `{"connected": ms}` once every device is logged in, and stays connected until
 * it is killed.
 * `ack`: then sends one compact telemetry batch per device per second for `seconds` and prints
 * `{"acks": [ms, …]}`: each batch's time from publish to its ack.
 * Input: argv[2] names a JSON file {mqttUrl, devices: [{id, password}], mode, seconds?}.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { deviceTopic, encodeMessage, encodeTelemetryBatch } from '@edgeloop/protocol';
import { encodeRemainingLength } from '@edgeloop/fleet-server/testing';
import { benchRecord } from './bench-records.js';

interface Plan {
  mqttUrl: string;
  devices: Array<{ id: string; password: string }>;
  mode: 'connect' | 'ack';
  seconds?: number;
}
const plan = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Plan;
const url = new URL(plan.mqttUrl);

function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

function packet(first: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([first]), encodeRemainingLength(body.length), body]);
}

function login(id: string, password: string): Buffer {
  const death = encodeMessage({ v: 1, type: 'death', deviceId: id, session: 1 });
  const birth = encodeMessage({
    v: 1,
    type: 'birth',
    deviceId: id,
    session: 1,
    ts: Date.now(),
    agentVersion: 'bench',
    arch: 'arm64',
    platform: 'linux',
    cpus: 4,
    memTotalMb: 4096,
    runtime: { name: 'onnxruntime', version: '1' },
    models: [],
    stream: 'bench',
    backlog: 0,
  });
  // CONNECT: clean session, will QoS 1 retained, username and password, no keep alive (an
  // agent pings; these devices would only be closed for not doing so).
  const connectFlags = 0x02 | 0x04 | 0x08 | 0x20 | 0x80 | 0x40;
  return Buffer.concat([
    packet(
      0x10,
      str('MQTT'),
      Buffer.from([4, connectFlags, 0, 0]),
      str(id),
      str(deviceTopic(id, 'presence')),
      str(death),
      str(id),
      str(password),
    ),
    packet(
      0x82,
      Buffer.from([0, 1]),
      str(deviceTopic(id, 'ack')),
      Buffer.from([1]),
      str(deviceTopic(id, 'desired')),
      Buffer.from([1]),
    ),
    packet(0x33, str(deviceTopic(id, 'presence')), Buffer.from([0, 2]), birth),
  ]);
}

/** Splits a byte stream into MQTT packets: [first byte, body]. */
function packets(onPacket: (first: number, body: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      let len = 0;
      let mul = 1;
      let i = 1;
      for (;;) {
        const byte = buf[i++];
        if (byte === undefined) return;
        len += (byte & 0x7f) * mul;
        mul *= 128;
        if (!(byte & 0x80)) break;
      }
      if (buf.length < i + len) return;
      onPacket(buf[0]!, buf.subarray(i, i + len));
      buf = buf.subarray(i + len);
    }
  };
}

interface Device {
  id: string;
  password: string;
  socket?: Socket;
  connected: boolean;
  /** Send time of each batch waiting for its ack, by the batch's last seq. */
  waiting: Map<number, number>;
}

const devices: Device[] = plan.devices.map((d) => ({ ...d, connected: false, waiting: new Map() }));
const acks: number[] = [];
let connectedCount = 0;

function open(d: Device): void {
  const socket = connect({ port: Number(url.port), host: url.hostname, noDelay: true });
  d.socket = socket;
  socket.on('error', () => undefined);
  socket.on('close', () => {
    if (d.connected) connectedCount--;
    d.connected = false;
    setTimeout(() => open(d), 500 + Math.random() * 1500);
  });
  socket.on(
    'data',
    packets((first, body) => {
      const type = first >> 4;
      if (type === 2 && body[1] === 0 && !d.connected) {
        d.connected = true;
        connectedCount++;
      } else if (type === 3) {
        const topicLength = body.readUInt16BE(0);
        const topic = body.subarray(2, 2 + topicLength).toString();
        const qos = (first >> 1) & 3;
        const payloadAt = 2 + topicLength + (qos ? 2 : 0);
        if (qos) socket.write(packet(0x40, body.subarray(2 + topicLength, 4 + topicLength)));
        if (topic.endsWith('/ack')) {
          const ack = JSON.parse(body.subarray(payloadAt).toString()) as { seqTo?: number };
          const sentAt = ack.seqTo === undefined ? undefined : d.waiting.get(ack.seqTo);
          if (sentAt !== undefined) {
            acks.push(performance.now() - sentAt);
            d.waiting.delete(ack.seqTo!);
          }
        }
      }
    }),
  );
  socket.write(login(d.id, d.password));
}

const t0 = performance.now();
devices.forEach(open);
while (connectedCount < devices.length) await new Promise((r) => setTimeout(r, 20));
process.stdout.write(`${JSON.stringify({ connected: performance.now() - t0 })}\n`);

if (plan.mode === 'ack') {
  const RECORDS = 10;
  let seq = 0;
  let packetId = 10;
  const end = performance.now() + (plan.seconds ?? 20) * 1000;
  // Each device sends once a second, spread evenly over the second.
  const spacing = 1000 / devices.length;
  while (performance.now() < end) {
    const round = performance.now();
    for (let i = 0; i < devices.length; i++) {
      const due = round + i * spacing;
      const wait = due - performance.now();
      if (wait > 4) await new Promise((r) => setTimeout(r, wait));
      const d = devices[i]!;
      if (!d.connected) continue;
      const from = seq;
      seq += RECORDS;
      const batch = encodeTelemetryBatch({
        v: 1,
        stream: 'bench',
        records: Array.from({ length: RECORDS }, (_, k) => benchRecord(from + k)),
        backlog: 0,
      });
      packetId = (packetId % 60_000) + 1;
      d.waiting.set(seq, performance.now());
      d.socket!.write(
        packet(0x32, str(deviceTopic(d.id, 'telemetry')), Buffer.from([packetId >> 8, packetId & 0xff]), batch),
      );
    }
  }
  await new Promise((r) => setTimeout(r, 2000));
  // Exit only once the (large) line is out: exit() would cut a pipe write short.
  process.stdout.write(`${JSON.stringify({ acks })}\n`, () => process.exit(0));
}
