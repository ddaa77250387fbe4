/**
 * @module cli/serve
 * `edgeloop serve`: runs the fleet server in the foreground until Ctrl-C / SIGTERM. Writes
 * `<data>/server.json` (and `./.edgeloop/server.json` for the default data dir, the one file the
 * other CLI commands read to find the server without flags); a clean stop removes the latter.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_HTTP_PORT, DEFAULT_MQTT_PORT, type FleetConfigInput } from '../config.js';
import { DEFAULT_MQTTS_PORT, type TlsSettingsInput } from '../tls/tls-settings.js';
import type { MosquittoSettingsInput } from '../broker/mosquitto-settings.js';
import { startFleetServer } from '../server.js';
import { encodePublicKey } from '@edgeloop/protocol';
import { writePrivateFile } from '@edgeloop/protocol/state-dir';
import { readPublicKeyArg } from '../keys/signing-key.js';
import { parseTrainerFlags } from '../training/trainers.js';

export const DEFAULT_DATA_DIR = '.edgeloop/fleet';

export const SERVE_USAGE = `usage: edgeloop serve [options]
  --data DIR           state directory (default ${DEFAULT_DATA_DIR}; only the default also writes
                       ./.edgeloop/server.json, where the other edgeloop commands find this server)
  --db PATH|URL        the fleet store: a SQLite file, or a postgres://user:pass@host/db URL
                       (or env EDGELOOP_DB_URL; default <data>/fleet.db)
  --telemetry-retention-days N  days of raw telemetry kept (PostgreSQL also env
                       EDGELOOP_TELEMETRY_RETENTION_DAYS; default 30; rollups stay 400 days)
  --http-host HOST     REST API / console address (default 127.0.0.1)
  --http-port PORT     (default ${DEFAULT_HTTP_PORT}; 0 = any free port)
  --mqtt-host HOST     embedded broker address (default 127.0.0.1)
  --mqtt-port PORT     embedded broker port (default ${DEFAULT_MQTT_PORT}, ${DEFAULT_MQTTS_PORT} with TLS; 0 = any free port)
  --mqtt-url URL       use an existing broker instead of the embedded one (mqtts://… for TLS)
  --mqtt-username U, --mqtt-password P   credentials for --mqtt-url (or env EDGELOOP_MQTT_PASSWORD)
  --mqtt-ca FILE       CA of an mqtts:// --mqtt-url broker (default: the --tls CA, else the system's)
  --mqtt-share-group NAME   with --mqtt-url: shared-subscription group of the servers that split
                       device messages (default edgeloop); --mqtt-no-shared-subscriptions: every
                       server gets every message (a broker without $share; one server only)
  --shared-dir DIR     several servers on one --db postgres:// URL and one --mqtt-url: the folder they
                       all reach (keys, artifacts, samples; docs/cluster.md). Default: --data
  --blob-store folder|postgres   where artifacts and samples live: the folder (--shared-dir, else
                       --data; default) or the --db PostgreSQL database (no shared file system needed)
  --instance-id ID     this server's name in logs, /api/v1/health and pg_stat_activity (default host-pid)
  --tls-self-signed    HTTPS and MQTT over TLS with a lab CA made in <data>/tls/ (kept, 0600);
                       devices pin its fingerprint (printed here and by "edgeloop tokens create")
  --tls-san NAMES      with --tls-self-signed: more host names/IPs devices use, comma-separated
                       (localhost, 127.0.0.1, ::1 and the hostname are always in)
  --tls-cert FILE, --tls-key FILE   HTTPS and MQTT over TLS with your certificate (chain) and key
  --tls-ca FILE        with --tls-cert: the CA devices pin (default: the top of the --tls-cert chain)
  --insecure           allow plain HTTP/MQTT on a non-loopback --http-host/--mqtt-host (clear text!)
  --mosquitto-password-file FILE, --mosquitto-acl-file FILE
                       with --mqtt-url: keep this Mosquitto's password_file and acl_file in step
                       with enrolled devices (docs/external-broker.md); server user default edgeloop-server
  --mosquitto-pid-file FILE | --mosquitto-reload-command CMD
                       how to make Mosquitto reload them (SIGHUP to the pid, or run CMD)
  --mosquitto-include-passwords FILE, --mosquitto-include-acl FILE
                       your own users / ACL lines, copied into the generated files
  --public-url URL     base URL devices download artifacts from (default: the HTTP address)
  --root-public-key KEY  keep the root key offline: base64 public key (or a file holding it) from
                       "edgeloop keys init-root"; rotations are then signed with "edgeloop keys rotate
                       --root-key FILE" (default: a root key in <data>/keys/root.key, 0600)
  --trainer NAME=COMMAND  a trainer training jobs may name (repeatable); COMMAND is split at spaces,
                       no shell, e.g. --trainer torch="python3 examples/pytorch/train.py" ("builtin" is there
                       whenever @edgeloop/models provides it)
  --training-timeout MS  per training run, unless a job sets its own (default 1800000)
  --max-version-jump N  refuse a model push whose version is more than N above the name's latest
                       unless pushed with --force (default 1000)
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (default info)
  --json               print one JSON line {"event":"ready",...} on stdout when ready`;

/** Returns the file the CLI reads (`./.edgeloop/server.json`) when written, for {@link removeServerInfo}. */
export function writeServerInfo(dataDir: string, info: Record<string, unknown>, alsoCwd: boolean): string | undefined {
  const text = `${JSON.stringify(info, null, 2)}\n`;
  const files = [join(dataDir, 'server.json'), ...(alsoCwd ? [resolve('.edgeloop', 'server.json')] : [])];
  if (alsoCwd) mkdirSync('.edgeloop', { recursive: true });
  for (const file of files) {
    // 0600: it holds the admin token when one is known (the CLI sends it to this server only).
    writePrivateFile(file, text);
  }
  return files[1];
}

/**
 * A server file left behind sends the CLI to a dead address, so a clean stop removes the one the
 * CLI reads — only while it still names this process (a newer server may have taken it over).
 * `<data>/server.json` stays: it records what the data directory last served.
 */
export function removeServerInfo(file: string | undefined, pid = process.pid): void {
  if (file === undefined) return;
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid === pid) rmSync(file, { force: true });
  } catch {
    // Gone or unreadable: nothing of ours to remove.
  }
}

/** The mqtt.mosquitto settings from the --mosquitto-* flags; undefined when none is given. */
function mosquittoFlags(
  v: Record<string, string | boolean | string[] | undefined>,
): MosquittoSettingsInput | undefined {
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const [passwordFile, aclFile, pidFile, command] = [
    str('mosquitto-password-file'),
    str('mosquitto-acl-file'),
    str('mosquitto-pid-file'),
    str('mosquitto-reload-command'),
  ];
  const [includePasswords, includeAcl] = [str('mosquitto-include-passwords'), str('mosquitto-include-acl')];
  if (![passwordFile, aclFile, pidFile, command, includePasswords, includeAcl].some(Boolean)) return undefined;
  if (!passwordFile || !aclFile)
    throw new Error(
      'give both --mosquitto-password-file and --mosquitto-acl-file (the files named by password_file and acl_file in mosquitto.conf)',
    );
  if (pidFile && command) throw new Error('give either --mosquitto-pid-file or --mosquitto-reload-command, not both');
  return {
    passwordFile: resolve(passwordFile),
    aclFile: resolve(aclFile),
    ...(pidFile ? { reload: { pidFile: resolve(pidFile) } } : command ? { reload: { command } } : {}),
    ...(includePasswords ? { includePasswordFile: resolve(includePasswords) } : {}),
    ...(includeAcl ? { includeAclFile: resolve(includeAcl) } : {}),
  };
}

/** The tls settings from --tls-* flags; undefined when none is given. */
function tlsFlags(v: Record<string, string | boolean | string[] | undefined>): TlsSettingsInput | undefined {
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const sans = ((v['tls-san'] as string[] | undefined) ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const [cert, key, ca] = [str('tls-cert'), str('tls-key'), str('tls-ca')];
  if (v['tls-self-signed']) {
    if (cert || key || ca) throw new Error('give either --tls-self-signed or --tls-cert/--tls-key, not both');
    return { mode: 'self-signed', subjectAltNames: sans };
  }
  if (sans.length)
    throw new Error('--tls-san goes with --tls-self-signed (a certificate you bring already names its hosts)');
  if (!cert && !key && !ca) return undefined;
  if (!cert || !key) throw new Error('give both --tls-cert FILE (certificate, then its chain) and --tls-key FILE');
  return { mode: 'files', certFile: resolve(cert), keyFile: resolve(key), ...(ca ? { caFile: resolve(ca) } : {}) };
}

export async function runServe(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' },
        db: { type: 'string' },
        'http-host': { type: 'string' },
        'http-port': { type: 'string' },
        'mqtt-host': { type: 'string' },
        'mqtt-port': { type: 'string' },
        'mqtt-url': { type: 'string' },
        'mqtt-username': { type: 'string' },
        'mqtt-password': { type: 'string' },
        'public-url': { type: 'string' },
        'root-public-key': { type: 'string' },
        'log-level': { type: 'string' },
        'max-version-jump': { type: 'string' },
        trainer: { type: 'string', multiple: true },
        'training-timeout': { type: 'string' },
        'telemetry-retention-days': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        'mosquitto-password-file': { type: 'string' },
        'mosquitto-acl-file': { type: 'string' },
        'mosquitto-pid-file': { type: 'string' },
        'mosquitto-reload-command': { type: 'string' },
        'mosquitto-include-passwords': { type: 'string' },
        'mosquitto-include-acl': { type: 'string' },
        'tls-self-signed': { type: 'boolean' },
        'tls-san': { type: 'string', multiple: true },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        'mqtt-ca': { type: 'string' },
        'mqtt-share-group': { type: 'string' },
        'mqtt-no-shared-subscriptions': { type: 'boolean' },
        'shared-dir': { type: 'string' },
        'instance-id': { type: 'string' },
        'blob-store': { type: 'string' },
        insecure: { type: 'boolean' },
      },
    }));
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n${SERVE_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  const port = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw new Error(`--${name} must be a port number 0-65535, got "${v}"`);
    return n;
  };
  const positive = (v: string, name: string) => {
    if (!/^[1-9][0-9]{0,9}$/.test(v)) throw new Error(`--${name} must be a whole number of at least 1, got "${v}"`);
    return Number(v);
  };
  const dataDir = resolve(values.data ?? DEFAULT_DATA_DIR);
  let config: FleetConfigInput;
  try {
    const mqttPassword = values['mqtt-password'] ?? process.env.EDGELOOP_MQTT_PASSWORD;
    const mosquitto = mosquittoFlags(values);
    if (mosquitto && !values['mqtt-url'])
      throw new Error('--mosquitto-* flags need --mqtt-url (the Mosquitto the files belong to)');
    if (values['mqtt-ca'] && !values['mqtt-url'])
      throw new Error('--mqtt-ca needs --mqtt-url (the broker whose CA it is)');
    if ((values['mqtt-share-group'] || values['mqtt-no-shared-subscriptions']) && !values['mqtt-url'])
      throw new Error('shared subscriptions are a setting of an external broker: give --mqtt-url');
    const tls = tlsFlags(values);
    config = {
      dataDir,
      ...(values.db ? { db: values.db } : {}),
      http: {
        ...(values['http-host'] ? { host: values['http-host'] } : {}),
        ...(values['http-port'] ? { port: port(values['http-port'], 'http-port') } : {}),
      },
      mqtt: values['mqtt-url']
        ? {
            mode: 'external',
            url: values['mqtt-url'],
            ...(values['mqtt-username'] ? { username: values['mqtt-username'] } : {}),
            ...(mqttPassword ? { password: mqttPassword } : {}),
            ...(mosquitto ? { mosquitto } : {}),
            ...(values['mqtt-ca'] ? { caFile: resolve(values['mqtt-ca']) } : {}),
            ...(values['mqtt-share-group'] ? { shareGroup: values['mqtt-share-group'] } : {}),
            ...(values['mqtt-no-shared-subscriptions'] ? { sharedSubscriptions: false } : {}),
          }
        : {
            mode: 'embedded',
            ...(values['mqtt-host'] ? { host: values['mqtt-host'] } : {}),
            ...(values['mqtt-port'] ? { port: port(values['mqtt-port'], 'mqtt-port') } : {}),
          },
      ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
      ...(values['root-public-key']
        ? { rootPublicKey: encodePublicKey(readPublicKeyArg(values['root-public-key'])) }
        : {}),
      ...(values['telemetry-retention-days']
        ? { telemetryRetentionDays: positive(values['telemetry-retention-days'], 'telemetry-retention-days') }
        : {}),
      ...(values.trainer?.length || values['training-timeout']
        ? {
            training: {
              trainers: parseTrainerFlags(values.trainer ?? []),
              ...(values['training-timeout']
                ? { timeoutMs: positive(values['training-timeout'], 'training-timeout') }
                : {}),
            },
          }
        : {}),
      ...(values['max-version-jump']
        ? { registry: { maxVersionJump: positive(values['max-version-jump'], 'max-version-jump') } }
        : {}),
      ...(values['log-level'] ? { log: { level: values['log-level'] as 'info' } } : {}),
      ...(tls ? { tls } : {}),
      ...(values.insecure ? { insecure: true } : {}),
      cluster: {
        ...(values['shared-dir'] ? { sharedDir: resolve(values['shared-dir']) } : {}),
        ...(values['instance-id'] ? { instanceId: values['instance-id'] } : {}),
        ...(values['blob-store'] ? { blobs: values['blob-store'] as 'folder' } : {}),
      },
    };
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 2;
  }

  let server;
  try {
    server = await startFleetServer(config);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
  // `ca` lets the CLI verify this server's certificate (api-client.ts); the fingerprint is for devices.
  const tlsInfo = server.tls ? { ca: server.tls.caFile, caFingerprint: server.tls.caFingerprint } : {};
  const info = {
    httpUrl: server.httpUrl,
    mqttUrl: server.mqttUrl,
    publicKey: server.publicKey,
    keyId: server.keyId,
    rootKeyId: server.rootKeyId,
    ...tlsInfo,
    pid: process.pid,
  };
  // Before "ready" is announced: a SIGTERM sent the moment it is read must find the handler, or
  // the default action kills the process without a clean stop.
  const stopRequested = new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const cliServerFile = writeServerInfo(
    dataDir,
    { ...info, ...(server.adminToken ? { token: server.adminToken } : {}) },
    values.data === undefined,
  );
  if (values.json) console.log(JSON.stringify({ event: 'ready', ...info }));
  else {
    console.error(
      `\nEdgeLoop fleet server\n  console       ${server.httpUrl}/${server.adminToken ? `login#token=${server.adminToken}` : ` (log in with the admin token in ${server.adminTokenFile})`}\n  REST API      ${server.httpUrl}/api/v1\n  MQTT broker   ${server.mqttUrl}\n  root key      ${server.rootKeyId} (devices trust: ${server.publicKey})\n  signing key   ${server.keyId || 'none yet: sign the first keyset with edgeloop keys rotate --root-key FILE'}\n${server.tls ? `  TLS CA        ${server.tls.caFile}\n                devices enroll with --ca-fingerprint ${server.tls.caFingerprint}\n` : ''}Ctrl-C to stop.\n`,
    );
  }

  await stopRequested;
  removeServerInfo(cliServerFile);
  await server.close();
  return 0;
}
