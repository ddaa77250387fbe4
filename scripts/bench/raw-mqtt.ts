/**
 * @module bench/raw-mqtt
 * MQTT 3.1.1 packets written by hand for simulated devices on raw sockets (an MQTT.js client
 * each would cost the simulating process more than the server under test): what a device sends
 * to log in as the agent does, and a splitter of the byte stream it gets back into packets.
 */
import { deviceTopic, encodeMessage } from '@edgeloop/protocol';
import { encodeRemainingLength } from '@edgeloop/fleet-server/testing';

/** A length-prefixed MQTT string (or binary) field. */
export function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

export function packet(first: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([first]), encodeRemainingLength(body.length), body]);
}

/** CONNECT: clean session, the device's death as its will (QoS 1, retained), username and password. */
export function connectPacket(id: string, password: string, keepAliveS: number): Buffer {
  const death = encodeMessage({ v: 1, type: 'death', deviceId: id, session: 1 });
  const connectFlags = 0x02 | 0x04 | 0x08 | 0x20 | 0x80 | 0x40;
  return packet(
    0x10,
    str('MQTT'),
    Buffer.from([4, connectFlags, keepAliveS >> 8, keepAliveS & 0xff]),
    str(id),
    str(deviceTopic(id, 'presence')),
    str(death),
    str(id),
    str(password),
  );
}

/** SUBSCRIBE (packet id 1) to the device's ack and desired topics at QoS 1. */
export function subscribePacket(id: string): Buffer {
  return packet(
    0x82,
    Buffer.from([0, 1]),
    str(deviceTopic(id, 'ack')),
    Buffer.from([1]),
    str(deviceTopic(id, 'desired')),
    Buffer.from([1]),
  );
}

/** PUBLISH of the device's birth (QoS 1, retained, packet id 2), as the agent announces itself. */
export function birthPacket(id: string, agentVersion: string): Buffer {
  const birth = encodeMessage({
    v: 1,
    type: 'birth',
    deviceId: id,
    session: 1,
    ts: Date.now(),
    agentVersion,
    arch: 'arm64',
    platform: 'linux',
    cpus: 4,
    memTotalMb: 4096,
    runtime: { name: 'onnxruntime', version: '1' },
    models: [],
    stream: agentVersion,
    backlog: 0,
  });
  return packet(0x33, str(deviceTopic(id, 'presence')), Buffer.from([0, 2]), birth);
}

/** Splits a byte stream into MQTT packets: [first byte, body]. */
export function packets(onPacket: (first: number, body: Buffer) => void): (chunk: Buffer) => void {
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
