/**
 * @module broker/mosquitto-acl
 * The Mosquitto ACL file that gives an external broker the same per-device isolation as the
 * embedded one, derived from the protocol's DEVICE_PUBLISHES / DEVICE_SUBSCRIBES lists so a new
 * channel is covered the moment it is added there:
 *
 *   pattern write edgeloop/v1/devices/%u/<each channel the device publishes>
 *   pattern read  edgeloop/v1/devices/%u/<each channel the device subscribes to>
 *   user edgeloop-server
 *   topic readwrite edgeloop/v1/#
 *
 * `%u` is the MQTT username, which is the device id, so a device reaches only its own topics.
 * Mosquitto applies `pattern` lines to every user wherever they appear; they come first so the
 * `user` block that follows reads unambiguously.
 */
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES, TOPIC_PREFIX } from '@edgeloop/protocol';
import { assertMosquittoUsername } from './mosquitto-passwd.js';

export interface AclOptions {
  /** The fleet server's own MQTT user: read/write on the whole prefix. */
  serverUsername: string;
  /** Extra lines appended verbatim (the operator's own users and rules). */
  extra?: string;
  header?: string;
}

/** The per-device lines alone (also printed by the docs and `edgeloop serve --help`). */
export function devicePatternLines(): string[] {
  const both = DEVICE_PUBLISHES.filter((c) => DEVICE_SUBSCRIBES.includes(c));
  const lines: string[] = [];
  for (const c of DEVICE_PUBLISHES)
    lines.push(`pattern ${both.includes(c) ? 'readwrite' : 'write'} ${TOPIC_PREFIX}/devices/%u/${c}`);
  for (const c of DEVICE_SUBSCRIBES) if (!both.includes(c)) lines.push(`pattern read ${TOPIC_PREFIX}/devices/%u/${c}`);
  return lines;
}

export function formatAclFile(opts: AclOptions): string {
  assertMosquittoUsername(opts.serverUsername);
  // The operator's lines go first: anonymous `topic` lines are only anonymous before the first
  // `user` line, and our `user` line below closes whatever user block they leave open.
  const extra = opts.extra?.trim() ? ["# Included from the operator's extra ACL file.", opts.extra.trim(), ''] : [];
  const parts = [
    opts.header ?? '',
    ...extra,
    '# Each device (username = device id) may publish and subscribe only on its own channels.',
    ...devicePatternLines(),
    '',
    '# The fleet server sees every device.',
    `user ${opts.serverUsername}`,
    `topic readwrite ${TOPIC_PREFIX}/#`,
  ];
  return `${parts.join('\n')}\n`;
}
