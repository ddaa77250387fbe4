/**
 * @module updates/artifact-access
 * Where a device may send its fleet credentials: only to the fleet's own HTTP origin (scheme,
 * host and port of `fleet.httpUrl`, written at enrollment). An artifact URL on any other origin
 * is refused before a request is made, whoever signed it: a wrong `publicUrl` or a compromised
 * signer must not turn into the device's password in a stranger's log.
 *
 * A config written before `fleet.httpUrl` existed names no HTTP origin, and nothing is derived
 * from the artifact URL (that would trust the very value being checked): such a device sends
 * its credentials over HTTP to nobody and fetches artifacts over the fleet link (MQTT), which it
 * already authenticates to; with `updates.transport: http` the update is refused with what to add.
 */
import type { DownloadAuth } from './range-fetch.js';

export type Transport = 'auto' | 'http' | 'mqtt';

export type ArtifactAccess =
  | { ok: true; transport: Transport; auth?: DownloadAuth }
  | { ok: false; code: 'foreign-origin' | 'no-fleet-origin'; reason: string };

export function originOf(url: string): string | undefined {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/**
 * How to fetch `artifactUrl`: with the device's credentials when it is on the fleet origin,
 * refused when a fleet origin is known and this is another one, over MQTT (no credentials over
 * HTTP) when the config names no fleet origin.
 */
export function artifactAccess(
  artifactUrl: string,
  fleetHttpUrl: string | undefined,
  auth: DownloadAuth | undefined,
  transport: Transport,
  hasFleetLink: boolean,
): ArtifactAccess {
  if (fleetHttpUrl !== undefined) {
    const fleet = originOf(fleetHttpUrl);
    const target = originOf(artifactUrl);
    if (!fleet || target !== fleet) {
      return {
        ok: false,
        code: 'foreign-origin',
        reason: `artifact URL ${artifactUrl} is not on the fleet's origin ${fleet ?? fleetHttpUrl} (fleet.httpUrl); the device sends its credentials nowhere else and did not fetch it. Check the fleet server's publicUrl`,
      };
    }
    return { ok: true, transport, ...(auth ? { auth } : {}) };
  }
  // Nothing secret to protect: the URL may be fetched as it is.
  if (!auth) return { ok: true, transport };
  if (transport === 'mqtt' || (transport === 'auto' && hasFleetLink)) return { ok: true, transport: 'mqtt' };
  return {
    ok: false,
    code: 'no-fleet-origin',
    reason:
      'fleet.httpUrl is not set, so this device sends its credentials to no HTTP server; add the fleet\'s HTTP address as fleet.httpUrl in the agent config (edgeloop-agent enroll writes it; the fleet\'s /api/v1/health shows it) or set updates.transport to "auto" or "mqtt"',
  };
}
