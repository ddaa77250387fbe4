import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceTopic, parseDeviceTopic, allDevicesTopic, isValidId } from './topics.js';

test('device topics round-trip through the parser', () => {
  const topic = deviceTopic('pi-kitchen.01', 'telemetry');
  assert.equal(topic, 'edgeloop/v1/devices/pi-kitchen.01/telemetry');
  assert.deepEqual(parseDeviceTopic(topic), { ok: true, deviceId: 'pi-kitchen.01', channel: 'telemetry' });
  assert.equal(allDevicesTopic('update'), 'edgeloop/v1/devices/+/update');
});

test('ids that would break topic levels or file names are refused', () => {
  for (const bad of ['', 'a/b', 'a+b', '#', '-lead', 'x'.repeat(65), 'space here', '../etc']) {
    assert.equal(isValidId(bad), false, bad);
    assert.throws(() => deviceTopic(bad, 'presence'), /invalid device id/);
  }
});

test('unknown topics are rejected with a reason', () => {
  for (const topic of [
    'edgeloop/v2/devices/a/telemetry',
    'edgeloop/v1/devices/a/firmware',
    'other/topic',
    'edgeloop/v1/devices/a/telemetry/extra',
  ]) {
    const parsed = parseDeviceTopic(topic);
    assert.equal(parsed.ok, false);
    assert.ok(!parsed.ok && parsed.reason.length > 0);
  }
});
