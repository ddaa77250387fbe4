import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import {
  encodeRemainingLength,
  FixedHeaderScanner,
  PacketSizeGuard,
  type PacketViolation,
} from './packet-size-guard.js';

/** A packet of `type` with a body of `bodyBytes` zero bytes. */
function packet(type: number, bodyBytes: number): Buffer {
  return Buffer.concat([Buffer.from([type << 4, ...encodeRemainingLength(bodyBytes)]), Buffer.alloc(bodyBytes)]);
}

const CONNECT = 1;
const PUBLISH = 3;
const PINGREQ = 12;

function scanAll(scanner: FixedHeaderScanner, chunks: Buffer[]): PacketViolation | undefined {
  for (const c of chunks) {
    const v = scanner.scan(c);
    if (v) return v;
  }
  return undefined;
}

function bytewise(buf: Buffer): Buffer[] {
  return [...buf].map((b) => Buffer.from([b]));
}

test('packet boundaries are tracked whatever the chunking: one byte at a time, merged, split across headers', () => {
  // Remaining Lengths of 1, 2, 3 and 0 bytes (§2.2.3 table: 127, 128, 16 384 are the edges).
  const stream = Buffer.concat([
    packet(CONNECT, 40),
    packet(PUBLISH, 127),
    packet(PUBLISH, 128),
    packet(PUBLISH, 16_384),
    packet(PINGREQ, 0),
    packet(PUBLISH, 3),
  ]);
  for (const chunks of [
    [stream],
    bytewise(stream),
    [stream.subarray(0, 43), stream.subarray(43, 44), stream.subarray(44)],
    [stream.subarray(0, 1), stream.subarray(1, 200), stream.subarray(200)],
  ]) {
    const scanner = new FixedHeaderScanner(20_000);
    assert.equal(scanAll(scanner, chunks), undefined);
    assert.equal(scanner.packets, 6, `${chunks.length} chunks`);
  }
});

test('a packet over the limit is refused from its fixed header, before any of its body', () => {
  const scanner = new FixedHeaderScanner(16 * 1024);
  assert.equal(scanner.scan(packet(CONNECT, 30)), undefined);
  // 256 MB announced (the largest a 4-byte Remaining Length can say), no body sent at all.
  const header = Buffer.from([PUBLISH << 4, ...encodeRemainingLength(268_435_455)]);
  const violation = scanAll(scanner, bytewise(header));
  assert.deepEqual(violation, {
    reason: 'packet_too_large',
    packetBytes: 268_435_460,
    limit: 16 * 1024,
    packetType: PUBLISH,
  });
  assert.deepEqual(scanner.scan(Buffer.alloc(10)), violation, 'stays failed');

  // The limit counts the whole packet: exactly at it passes, one byte more does not.
  const exact = new FixedHeaderScanner(1 + 2 + 1000);
  assert.equal(exact.scan(packet(CONNECT, 1000)), undefined);
  const over = new FixedHeaderScanner(1 + 2 + 999);
  assert.equal(over.scan(packet(CONNECT, 1000).subarray(0, 3))?.reason, 'packet_too_large');
});

test('the limit can be raised between packets (after authentication)', () => {
  const scanner = new FixedHeaderScanner(100);
  assert.equal(scanner.scan(packet(CONNECT, 50)), undefined);
  scanner.maxPacketBytes = 1_000_000;
  assert.equal(scanner.scan(packet(PUBLISH, 500_000)), undefined);
  assert.equal(scanner.scan(packet(PUBLISH, 1_000_000).subarray(0, 4))?.reason, 'packet_too_large');
});

test('malformed input: a 5th Remaining Length byte, reserved types, a first packet other than CONNECT', () => {
  const fiveBytes = new FixedHeaderScanner(Number.MAX_SAFE_INTEGER);
  assert.equal(fiveBytes.scan(packet(CONNECT, 2)), undefined);
  assert.match(
    (fiveBytes.scan(Buffer.from([PUBLISH << 4, 0xff, 0xff, 0xff, 0xff, 0x7f])) as { detail: string }).detail,
    /longer than 4 bytes/,
  );
  for (const type of [0, 15]) {
    const s = new FixedHeaderScanner(1000);
    s.scan(packet(CONNECT, 2));
    assert.match((s.scan(packet(type, 0)) as { detail: string }).detail, /reserved packet type/);
  }
  // An HTTP request sent to the MQTT port: 'G' is 0x47, type 4.
  assert.match(
    (new FixedHeaderScanner(1000).scan(Buffer.from('GET / HTTP/1.1\r\n')) as { detail: string }).detail,
    /not CONNECT \[MQTT-3\.1\.0-1\]/,
  );
});

/** A connected pair of TCP sockets on loopback: [client side, server side]. */
async function socketPair(t: { after: (fn: () => Promise<void>) => void }): Promise<[Socket, Socket]> {
  const accepted: Socket[] = [];
  const server = createServer((s) => accepted.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  while (accepted.length === 0) await new Promise((r) => setTimeout(r, 5));
  client.on('error', () => undefined);
  return [client, accepted[0]!];
}

test('before authentication the bytes of all packets together are capped; afterwards only each packet', async (t) => {
  const [client, socket] = await socketPair(t);
  const violations: PacketViolation[] = [];
  const guard = new PacketSizeGuard(socket, 1024, 2048, (v) => violations.push(v));
  let passed = 0;
  guard.on('data', (c: Buffer) => {
    passed += c.length;
  });
  client.write(packet(CONNECT, 1000));
  while (passed < 1003) await new Promise((r) => setTimeout(r, 5));
  guard.setAuthenticated(1024);
  // After authentication: 10 packets of ~1 KiB, far more than 2048 bytes in all.
  for (let i = 0; i < 10; i++) client.write(packet(PUBLISH, 1000));
  while (passed < 11 * 1003) await new Promise((r) => setTimeout(r, 5));
  assert.equal(violations.length, 0);

  const [client2, socket2] = await socketPair(t);
  const guard2 = new PacketSizeGuard(socket2, 1024, 2048, (v) => violations.push(v));
  guard2.resume();
  const closed = new Promise((resolve) => client2.once('close', resolve));
  // A CONNECT and then more packets without waiting for authentication.
  client2.write(Buffer.concat([packet(CONNECT, 1000), packet(PUBLISH, 1000), packet(PUBLISH, 1000)]));
  await closed;
  assert.equal(violations.length, 1);
  const v = violations[0] as Extract<PacketViolation, { reason: 'too_much_before_auth' }>;
  assert.equal(v.reason, 'too_much_before_auth');
  assert.ok(v.bytes > 2048 && v.limit === 2048, JSON.stringify(v));
  guard.destroy();
});

test('the guard passes bytes through both ways and destroys the socket on a violation before passing the bad packet on', async (t) => {
  const [client, socket] = await socketPair(t);
  const accepted = [socket];
  const violations: PacketViolation[] = [];
  const guard = new PacketSizeGuard(accepted[0]!, 1024, 1 << 20, (v) => violations.push(v));
  const received: Buffer[] = [];
  guard.on('data', (c: Buffer) => received.push(c));
  const echoed: Buffer[] = [];
  client.on('data', (c: Buffer) => echoed.push(c));

  guard.write(Buffer.from('to the client'));
  const ok = packet(CONNECT, 100);
  client.write(ok);
  while (Buffer.concat(received).length < ok.length || Buffer.concat(echoed).length < 13)
    await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(Buffer.concat(received), ok);
  assert.equal(Buffer.concat(echoed).toString(), 'to the client');

  const closed = new Promise((resolve) => client.once('close', resolve));
  client.write(Buffer.concat([Buffer.from([PUBLISH << 4, ...encodeRemainingLength(50_000_000)]), Buffer.alloc(4096)]));
  await closed;
  assert.deepEqual(
    violations.map((v) => v.reason),
    ['packet_too_large'],
  );
  assert.deepEqual(Buffer.concat(received), ok, 'none of the oversized packet reached the reader');
  assert.ok(guard.destroyed && accepted[0]!.destroyed);
});
