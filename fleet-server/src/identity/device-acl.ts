/**
 * @module identity/device-acl
 * The per-device MQTT access rules, as pure functions: a device publishes only on its own
 * `edgeloop/v1/devices/<id>/<channel>` for channels in DEVICE_PUBLISHES, and subscribes only to
 * its own channels in DEVICE_SUBSCRIBES, by exact topic (no wildcards). Both lists live in
 * @edgeloop/protocol, so a new channel is added there once and every broker follows.
 *
 * One more read-only permission: sensor bindings on the fleet broker (agent `sensors`, broker
 * "fleet") subscribe to the integrator's own topics, e.g. `site/tof/+`. A device may subscribe to
 * filters whose first level is a literal other than `edgeloop` (and not `$…`): such a filter can
 * never match a fleet topic, wildcards below it included. Devices can never publish there.
 */
import {
  DEVICE_PUBLISHES,
  DEVICE_SUBSCRIBES,
  TOPIC_PREFIX,
  parseDeviceTopic,
  type DeviceChannel,
} from '@edgeloop/protocol';

export type AclDecision = { ok: true } | { ok: false; reason: string };

function check(deviceId: string, topic: string, allowed: readonly DeviceChannel[], verb: string): AclDecision {
  if (topic.includes('+') || topic.includes('#'))
    return { ok: false, reason: `wildcards are not allowed (${verb} exact topics of your own device)` };
  const parsed = parseDeviceTopic(topic);
  if (!parsed.ok) return { ok: false, reason: `not a device topic: ${parsed.reason}` };
  if (parsed.deviceId !== deviceId)
    return { ok: false, reason: `topic belongs to device "${parsed.deviceId}", not "${deviceId}"` };
  if (!allowed.includes(parsed.channel))
    return {
      ok: false,
      reason: `devices may not ${verb} channel "${parsed.channel}" (allowed: ${allowed.join(', ')})`,
    };
  return { ok: true };
}

export function deviceMayPublish(deviceId: string, topic: string): AclDecision {
  return check(deviceId, topic, DEVICE_PUBLISHES, 'publish on');
}

/** The first level of `edgeloop/…` topics; every fleet topic lives under it. */
const FLEET_ROOT = TOPIC_PREFIX.split('/')[0]!;

/** A filter that cannot match any fleet topic: literal first level, not the fleet's, not `$…`. */
export function isIntegratorFilter(topicFilter: string): boolean {
  const first = topicFilter.split('/')[0] ?? '';
  return first !== '' && first !== FLEET_ROOT && first !== '+' && first !== '#' && !first.startsWith('$');
}

export function deviceMaySubscribe(deviceId: string, topicFilter: string): AclDecision {
  if (isIntegratorFilter(topicFilter)) return { ok: true };
  return check(deviceId, topicFilter, DEVICE_SUBSCRIBES, 'subscribe to');
}
