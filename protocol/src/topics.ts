/**
 * @module topics
 * The MQTT topic layout. Every topic lives under one versioned prefix so a v2 protocol can run
 * beside v1 on the same broker, and every device-scoped topic carries the device id in the same
 * position so a broker ACL can isolate devices with a single `pattern` rule on the username.
 *
 *   edgeloop/v1/devices/{deviceId}/presence   agent → server  birth (retained) / death (last will)
 *   edgeloop/v1/devices/{deviceId}/telemetry  agent → server  batches of buffered records (QoS 1)
 *   edgeloop/v1/devices/{deviceId}/ack        server → agent  batch stored / rejected (QoS 1)
 *   edgeloop/v1/devices/{deviceId}/desired    server → agent  signed model assignments (retained)
 *   edgeloop/v1/devices/{deviceId}/update     agent → server  update state reports (QoS 1)
 *   edgeloop/v1/devices/{deviceId}/reference  agent → server  late reference values for synced records (QoS 1)
 *   edgeloop/v1/devices/{deviceId}/sample     agent → server  a raw input kept for retraining (QoS 1, binary)
 *   edgeloop/v1/devices/{deviceId}/fetch      agent → server  request for artifact bytes over MQTT (chunk-transfer.ts)
 *   edgeloop/v1/devices/{deviceId}/chunk      server → agent  artifact blocks of ≤ 128 KiB (QoS 1, binary)
 *   edgeloop/v1/devices/{deviceId}/summary    agent → server  per-window rollups instead of records (bandwidth mode, QoS 1)
 *   edgeloop/v1/devices/{deviceId}/alert      agent → server  alerts the device raised itself (QoS 1)
 */

export const TOPIC_PREFIX = 'edgeloop/v1';

export const DEVICE_CHANNELS = [
  'presence',
  'telemetry',
  'ack',
  'desired',
  'update',
  'reference',
  'sample',
  'fetch',
  'chunk',
  'summary',
  'alert',
] as const;
export type DeviceChannel = (typeof DEVICE_CHANNELS)[number];

/** Channels a device publishes on; the rest it only subscribes to. */
export const DEVICE_PUBLISHES: readonly DeviceChannel[] = [
  'presence',
  'telemetry',
  'update',
  'reference',
  'sample',
  'fetch',
  'summary',
  'alert',
];
/** Channels a device subscribes to. Broker ACLs (embedded and Mosquitto) are derived from these two lists. */
export const DEVICE_SUBSCRIBES: readonly DeviceChannel[] = ['ack', 'desired', 'chunk'];

// No MQTT wildcards or separators, bounded length: ids become topic levels, file names and SQL keys.
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export function assertValidId(kind: string, id: string): void {
  if (!isValidId(id)) {
    throw new Error(
      `invalid ${kind} "${id}": use 1-64 characters from A-Z a-z 0-9 _ . - starting with a letter or digit`,
    );
  }
}

export function deviceTopic(deviceId: string, channel: DeviceChannel): string {
  assertValidId('device id', deviceId);
  return `${TOPIC_PREFIX}/devices/${deviceId}/${channel}`;
}

/** Subscription filter for one channel of every device (the server's view). */
export function allDevicesTopic(channel: DeviceChannel): string {
  return `${TOPIC_PREFIX}/devices/+/${channel}`;
}

export type ParsedTopic = { ok: true; deviceId: string; channel: DeviceChannel } | { ok: false; reason: string };

export function parseDeviceTopic(topic: string): ParsedTopic {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_PREFIX || parts[2] !== 'devices') {
    return { ok: false, reason: `topic "${topic}" is not under ${TOPIC_PREFIX}/devices/{deviceId}/{channel}` };
  }
  const deviceId = parts[3] ?? '';
  const channel = parts[4] ?? '';
  if (!isValidId(deviceId)) return { ok: false, reason: `topic "${topic}" has an invalid device id` };
  if (!(DEVICE_CHANNELS as readonly string[]).includes(channel)) {
    return {
      ok: false,
      reason: `topic "${topic}" has unknown channel "${channel}" (known: ${DEVICE_CHANNELS.join(', ')})`,
    };
  }
  return { ok: true, deviceId, channel: channel as DeviceChannel };
}
