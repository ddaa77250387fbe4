import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSample, deviceTopic, encodeSample, MAX_PAYLOAD_BYTES, MAX_SAMPLE_BYTES } from '@edgeloop/protocol';
import { MAX_PACKET_BYTES, PRE_AUTH_MAX_PACKET_BYTES } from './connection-gate.js';
import { encodeRemainingLength, FixedHeaderScanner } from './packet-size-guard.js';

/** The fixed header and variable header of a QoS 1 PUBLISH (§3.3) carrying `payloadBytes`. */
function publishHead(topic: string, payloadBytes: number): Buffer {
  const remaining = 2 + Buffer.byteLength(topic) + 2 + payloadBytes;
  return Buffer.concat([Buffer.from([0x32]), encodeRemainingLength(remaining)]);
}

const longestTopic = deviceTopic('d'.repeat(64), 'telemetry');

test('the largest message a device may send passes the authenticated limit', () => {
  // The largest payload the sample decoder accepts: a sample of MAX_SAMPLE_BYTES plus its header, up to its cap.
  const sample = encodeSample({
    v: 1,
    stream: 's'.repeat(64),
    id: 1,
    seq: 1,
    model: 'm'.repeat(64),
    version: 1,
    ts: Date.now(),
    reason: 'capture',
    prediction: 1,
    reference: 1,
    contentType: 'image/jpeg',
    data: new Uint8Array(MAX_SAMPLE_BYTES),
  });
  assert.ok(decodeSample(sample).ok);
  const largestSamplePayload = MAX_SAMPLE_BYTES + 64 * 1024;
  assert.ok(sample.length <= largestSamplePayload);
  for (const payload of [largestSamplePayload, MAX_PAYLOAD_BYTES]) {
    assert.equal(
      new FixedHeaderScanner(MAX_PACKET_BYTES).scan(
        Buffer.concat([Buffer.from([0x10, 0]), publishHead(longestTopic, payload)]),
      ),
      undefined,
      `${payload}-byte payload`,
    );
  }
  // One byte more than the slack allows is refused.
  const tooBig = MAX_PACKET_BYTES - 5 - 2 - Buffer.byteLength(longestTopic) - 2 + 1;
  assert.equal(
    new FixedHeaderScanner(MAX_PACKET_BYTES).scan(
      Buffer.concat([Buffer.from([0x10, 0]), publishHead(longestTopic, tooBig)]),
    )?.reason,
    'packet_too_large',
  );
});

test("an agent's CONNECT (128-character client id, device id, password, retained death as will) fits the pre-authentication limit many times over", () => {
  const will = JSON.stringify({ v: 1, type: 'death', deviceId: 'd'.repeat(64), session: Number.MAX_SAFE_INTEGER });
  const connectBytes =
    2 + 10 + 2 + 128 + 2 + deviceTopic('d'.repeat(64), 'presence').length + 2 + will.length + 2 + 64 + 2 + 64;
  assert.ok(connectBytes * 10 < PRE_AUTH_MAX_PACKET_BYTES, `${connectBytes} bytes`);
});
