/**
 * @module link/fleet-tls
 * The fleet CA pinned at enrollment (`fleet.ca`), read once at start, and what the agent says
 * when the fleet's certificate does not match it. Every link to the fleet (MQTT, artifact
 * downloads) trusts this CA alone; without `fleet.ca` they use the system's trust store.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { isPlainTextBeyondLoopback } from '@edgeloop/protocol';
import { ConfigError, type AgentConfig } from '../config.js';

export interface PinnedCa {
  pem: string;
  /** Where it came from (fleet.ca), for error messages. */
  file: string;
}

/** Reads fleet.ca (a ConfigError if it cannot) and warns when the fleet link would be plain text beyond this machine. */
export function loadFleetCa(config: AgentConfig, log: Logger): PinnedCa | undefined {
  if (isPlainTextBeyondLoopback(config.fleet.mqttUrl)) {
    log.warn(
      { mqttUrl: config.fleet.mqttUrl },
      "the fleet link is plain MQTT to another machine: the device password and every record cross the network unencrypted; enroll with the fleet's https:// address and --ca-fingerprint",
    );
  }
  if (!config.fleet.ca) return undefined;
  try {
    return { pem: readFileSync(config.fleet.ca, 'utf8'), file: config.fleet.ca };
  } catch (err) {
    throw new ConfigError(
      `cannot read fleet.ca ${config.fleet.ca} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}), the fleet CA pinned at enrollment; restore it or enroll again with --ca-fingerprint`,
    );
  }
}

/** The message for a certificate that does not verify against the pinned CA (or the system's). */
export function untrustedServerMessage(what: string, code: string, ca: PinnedCa | undefined): string {
  return ca
    ? `TLS: the ${what}'s certificate is not signed by the CA pinned at enrollment (fleet.ca=${ca.file}; ${code}): re-enroll with the fleet's current CA fingerprint, or fix the server certificate`
    : `TLS: the ${what}'s certificate does not verify against the system's trust store (${code}): enroll with --ca-fingerprint for a fleet with its own CA, or fix the server certificate`;
}
