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
import { deviceTopic, encodeTelemetryBatch } from '@edgeloop/protocol';
import { birthPacket, connectPacket, packet, packets, str, subscribePacket } from './raw-mqtt.js';
import { benchRecord } from './bench-records.js';

interface Plan {
  mqttUrl: string;
  devices: Array<{ id: string; password: string }>;
  mode: 'connect' | 'ack';
  seconds?: number;
}
const plan = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Plan;
const url = new URL(plan.mqttUrl);

/** Log in as the agent does: CONNECT (no keep alive: an agent pings, these would only be closed for not doing so), SUBSCRIBE, birth. */
function login(id: string, password: string): Buffer {
  return Buffer.concat([connectPacket(id, password, 0), subscribePacket(id), birthPacket(id, 'bench')]);
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
