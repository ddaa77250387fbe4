/**
 * @module enroll/enroll
 * `edgeloop-agent enroll`: trades a fleet enrollment token for this device's credentials
 * (POST /api/v1/enroll) and writes the agent config with them: device id, data dir, and
 * fleet.mqttUrl / httpUrl / username / password / trustedKeys exactly as the fleet answered. The config is
 * written 0600 (it holds the broker password). An existing config is only replaced with
 * --force; its other settings (API port, sensors, limits…) are kept, only identity changes.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { arch, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  fetchWithCa,
  isLoopbackHost,
  isPlainTextBeyondLoopback,
  isTlsVerifyError,
  isValidId,
  parseCaFingerprint,
  type EnrollRequest,
  type EnrollResponse,
} from '@edgeloop/protocol';
import { writePrivateFile } from '@edgeloop/protocol/state-dir';
import { ConfigError, parseAgentConfig, type AgentConfig } from '../config.js';
import { CaPinMismatchError, pinFleetCa } from './ca-pinning.js';

export interface EnrollOptions {
  /** Base URL of the fleet server's HTTP API, e.g. http://fleet.local:8460. */
  fleetUrl: string;
  token: string;
  /** Default: the hostname (when it is a valid device id). */
  deviceId?: string | undefined;
  configPath: string;
  /** Default for a new config: ./edgeloop-agent-data. An existing config keeps its own unless given. */
  dataDir?: string | undefined;
  hardware?: string | undefined;
  apiPort?: number | undefined;
  force?: boolean | undefined;
  timeoutMs?: number | undefined;
  /** `sha256:<hex>` of the fleet CA's public key: trust only that CA (from `edgeloop tokens create`). */
  caFingerprint?: string | undefined;
  /** Allow plain http:// to a host other than this machine (the token and password travel in clear text). */
  insecure?: boolean | undefined;
}

/** Where the pinned CA is written: beside the config, which names it in fleet.ca. */
export const FLEET_CA_FILE = 'fleet-ca.pem';

/** A failure the operator can fix by changing the command line (exit 2) rather than retrying (exit 1). */
export class EnrollUsageError extends Error {}

function fleetBase(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EnrollUsageError(
      `--fleet "${raw}" is not a URL; give the fleet server's HTTP address, e.g. --fleet http://fleet.local:8460`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EnrollUsageError(
      `--fleet must be the fleet server's http:// or https:// address (not ${url.protocol}//…), e.g. --fleet http://fleet.local:8460`,
    );
  }
  return raw.replace(/\/+$/, '');
}

function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if ((err as Error).name === 'TimeoutError') return 'no answer in time';
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

/** POST /api/v1/enroll; every failure says what to do next. `ca`: the only CA to trust (PEM). */
export async function requestEnrollment(
  fleetUrl: string,
  body: EnrollRequest,
  timeoutMs = 15_000,
  ca?: string,
): Promise<EnrollResponse> {
  const base = fleetBase(fleetUrl);
  // Loaded on use: the client carries the whole API contract, which a running agent never needs.
  const { createRestClient, RestContractError, RestError, RestNetworkError } =
    await import('@edgeloop/protocol/client');
  const client = createRestClient({
    baseUrl: base,
    timeoutMs,
    ...(ca ? { fetch: (url: string, init: RequestInit) => fetchWithCa(url, init, ca) } : {}),
  });
  try {
    return await client.enroll({ body });
  } catch (err) {
    if (err instanceof RestNetworkError) {
      const cause = (err.cause as { cause?: unknown } | undefined)?.cause;
      if (isTlsVerifyError(cause)) {
        throw new EnrollUsageError(
          `TLS: the fleet server at ${base} presented a certificate that does not verify (${cause.code}: ${cause.message}); ` +
            (ca
              ? 'its certificate must be signed by the pinned CA and name the host in --fleet'
              : 'give --ca-fingerprint (printed by "edgeloop tokens create") for a fleet with its own CA'),
          { cause: err },
        );
      }
      throw new Error(
        `cannot reach the fleet server at ${base} (${networkCause(err.cause)}); check --fleet and that the server runs (edgeloop serve), then retry`,
        { cause: err },
      );
    }
    if (err instanceof RestError) {
      const why =
        typeof (err.body as { error?: unknown } | undefined)?.error === 'string' ? err.reason : `HTTP ${err.status}`;
      if (err.status === 404)
        throw new Error(
          `${base} has no enrollment endpoint (${why}); is --fleet the EdgeLoop fleet server's HTTP address?`,
          { cause: err },
        );
      // 400/401/403/409: a bad token or device id; retrying the same command cannot help.
      if (err.status >= 400 && err.status < 500)
        throw new EnrollUsageError(`the fleet server refused the enrollment: ${why}`, { cause: err });
      throw new Error(`the fleet server failed to enroll this device (${why}); retry later`, { cause: err });
    }
    if (err instanceof RestContractError)
      throw new Error(
        `the fleet server's answer is not an enrollment (${err.problem}); is --fleet an EdgeLoop fleet server of this version?`,
        { cause: err },
      );
    throw err;
  }
}

function readExisting(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new EnrollUsageError(
      `cannot read the existing config ${path} (${(err as Error).message}); move it away or fix it, then retry`,
    );
  }
}

/** Enrolls and writes the config; returns it. `progress` gets one line per step. */
export async function enroll(opts: EnrollOptions, progress: (line: string) => void): Promise<AgentConfig> {
  const path = resolve(opts.configPath);
  const exists = existsSync(path);
  if (exists && !opts.force) {
    throw new EnrollUsageError(
      `${path} exists; pass --force to enroll again (the device gets a new password, the old one stops working) or --config to write elsewhere`,
    );
  }
  const existing = exists ? readExisting(path) : {};
  const deviceId = opts.deviceId ?? (typeof existing.deviceId === 'string' ? existing.deviceId : hostname());
  if (!isValidId(deviceId)) {
    throw new EnrollUsageError(
      `device id "${deviceId}"${opts.deviceId ? '' : ' (the hostname)'} is not valid: use 1-64 characters from A-Z a-z 0-9 _ . - and pass it with --device-id`,
    );
  }
  const hardware = opts.hardware ?? (typeof existing.hardware === 'string' ? existing.hardware : undefined);
  const base = fleetBase(opts.fleetUrl);
  const ca = await fleetTrust(base, opts, progress);

  progress(`enrolling device ${deviceId} with ${base}`);
  const answer = await requestEnrollment(
    base,
    { token: opts.token, deviceId, arch: arch(), ...(hardware ? { hardware } : {}) },
    opts.timeoutMs,
    ca?.pem,
  );
  progress(
    `enrolled: broker ${answer.mqttUrl} as ${answer.username}, ${answer.trustedKeys.length} trusted key${answer.trustedKeys.length === 1 ? '' : 's'}`,
  );
  if (isPlainTextBeyondLoopback(answer.mqttUrl)) {
    progress(
      `warning: the fleet hands out a plain-text broker (${answer.mqttUrl}): the device password and every record cross the network unencrypted; run the fleet server with TLS`,
    );
  }
  const caPath = ca ? join(dirname(path), FLEET_CA_FILE) : undefined;

  const existingFleet = (existing.fleet ?? {}) as Record<string, unknown>;
  const existingApi = (existing.api ?? {}) as Record<string, unknown>;
  const input = {
    ...existing,
    deviceId: answer.deviceId,
    dataDir:
      opts.dataDir !== undefined
        ? resolve(opts.dataDir)
        : typeof existing.dataDir === 'string'
          ? existing.dataDir
          : resolve('edgeloop-agent-data'),
    ...(hardware ? { hardware } : {}),
    api: { ...existingApi, ...(opts.apiPort !== undefined ? { port: opts.apiPort } : {}) },
    // Named relative to the config ("beside it"), so a config written into a staged image root
    // still finds its CA on the device: loadAgentConfig resolves it against the config's folder.
    fleet: {
      ...withoutCa(existingFleet),
      mqttUrl: answer.mqttUrl,
      httpUrl: answer.httpUrl,
      username: answer.username,
      password: answer.password,
      trustedKeys: answer.trustedKeys,
      ...(caPath ? { ca: FLEET_CA_FILE } : {}),
    },
  };
  let config: AgentConfig;
  try {
    config = parseAgentConfig(input, 'the enrolled config');
  } catch (err) {
    // The fleet's answer (or the kept settings) do not make a valid config: nothing is written.
    throw new ConfigError(`${(err as Error).message}; nothing was written`);
  }
  mkdirSync(dirname(path), { recursive: true });
  if (ca && caPath) {
    writePrivateFile(caPath, ca.pem);
    progress(`pinned the fleet CA "${ca.subject}" in ${caPath}`);
  }
  writePrivateFile(path, `${JSON.stringify(config, null, 2)}\n`);
  progress(
    `wrote ${path} (0600, it holds the broker password); start the agent with: edgeloop-agent run --config ${path}`,
  );
  return config;
}

function withoutCa(fleet: Record<string, unknown>): Record<string, unknown> {
  const { ca: _dropped, ...rest } = fleet;
  return rest;
}

/**
 * Which CA the enrollment trusts: with --ca-fingerprint the one found in the server's chain;
 * https without it, the system's trust store; plain http only to this machine or with --insecure.
 */
async function fleetTrust(
  base: string,
  opts: EnrollOptions,
  progress: (line: string) => void,
): Promise<{ pem: string; subject: string } | undefined> {
  const url = new URL(base);
  if (url.protocol === 'http:') {
    if (opts.caFingerprint)
      throw new EnrollUsageError(
        `--ca-fingerprint needs an https:// --fleet address (got ${base}); the fleet server serves HTTPS with --tls-self-signed or --tls-cert`,
      );
    if (isLoopbackHost(url.hostname)) return undefined;
    if (!opts.insecure) {
      throw new EnrollUsageError(
        `--fleet ${base} is plain http to another machine: the enrollment token and the device password would cross the network in clear text; use the fleet's https:// address with --ca-fingerprint, or accept the risk with --insecure`,
      );
    }
    progress(
      `warning: enrolling over plain http (--insecure): the token and the device password cross the network unencrypted`,
    );
    return undefined;
  }
  if (!opts.caFingerprint) return undefined;
  let fingerprint: string;
  try {
    fingerprint = parseCaFingerprint(opts.caFingerprint);
  } catch (err) {
    throw new EnrollUsageError(`--ca-fingerprint: ${(err as Error).message}`);
  }
  try {
    const ca = await pinFleetCa(base, fingerprint, opts.timeoutMs);
    progress(`the server presents the CA ${fingerprint} ("${ca.subject}"); trusting only it`);
    return ca;
  } catch (err) {
    if (err instanceof CaPinMismatchError) throw new EnrollUsageError(err.message);
    throw new Error(
      `cannot reach the fleet server at ${base} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check --fleet and that the server runs (edgeloop serve), then retry`,
      { cause: err },
    );
  }
}
