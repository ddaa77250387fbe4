import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES, deviceTopic } from '@edgeloop/protocol';
import { deviceMayPublish, deviceMaySubscribe } from './device-acl.js';

test('a device publishes only its own outbound channels', () => {
  for (const channel of DEVICE_PUBLISHES) {
    assert.ok(deviceMayPublish('pi-1', deviceTopic('pi-1', channel)).ok, channel);
    assert.match(
      (deviceMayPublish('pi-1', deviceTopic('pi-2', channel)) as { reason: string }).reason,
      /belongs to device "pi-2"/,
    );
  }
  for (const channel of DEVICE_SUBSCRIBES)
    assert.equal(
      deviceMayPublish('pi-1', deviceTopic('pi-1', channel)).ok,
      false,
      `${channel} is the server's to publish`,
    );
  for (const topic of [
    'site/labels',
    'edgeloop/v1/whatever',
    '$SYS/broker',
    'edgeloop/v1/devices/pi-1/firmware',
    'edgeloop/v1/devices/pi-1/presence/x',
  ]) {
    assert.equal(deviceMayPublish('pi-1', topic).ok, false, topic);
  }
});

test('a device subscribes only its own inbound channels, exactly; integrator topics read-only', () => {
  for (const channel of DEVICE_SUBSCRIBES) {
    assert.ok(deviceMaySubscribe('pi-1', deviceTopic('pi-1', channel)).ok, channel);
    assert.equal(deviceMaySubscribe('pi-1', deviceTopic('pi-2', channel)).ok, false);
  }
  for (const filter of [
    '#',
    '+/v1/devices/pi-1/desired',
    'edgeloop/#',
    'edgeloop/v1/devices/+/desired',
    'edgeloop/v1/devices/pi-1/#',
    'edgeloop/v1/devices/pi-1/+',
    '$SYS/#',
    '+',
    '/edgeloop',
  ]) {
    assert.equal(deviceMaySubscribe('pi-1', filter).ok, false, filter);
  }
  for (const channel of DEVICE_PUBLISHES)
    assert.equal(deviceMaySubscribe('pi-1', deviceTopic('pi-1', channel)).ok, false, `${channel} is outbound only`);
  // Sensor bindings on the fleet broker: a literal first level that is not the fleet's cannot match a fleet topic.
  for (const filter of ['site/tof/+', 'labels/distance', 'car/#'])
    assert.ok(deviceMaySubscribe('pi-1', filter).ok, filter);
});
