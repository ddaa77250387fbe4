/**
 * @module broker/mosquitto-sync
 * Keeps an external Mosquitto's password file and ACL file in step with device identity, then
 * asks Mosquitto to reload them (broker/mosquitto-files.ts writes and reloads).
 *
 * Why files: they are what the issue asks for (`pattern` rules on the username), they work with
 * every Mosquitto 2.x without a plugin, and on reload Mosquitto 2.x re-checks every connected
 * client against the new password file and disconnects those no longer in it, so disabling a
 * device takes effect live, not only at its next reconnect (tested against a real Mosquitto).
 *
 * The server learns a device's password exactly once, when the credential is issued; identity
 * stores Mosquitto's `$7$` hash of it in the store (`brokerUsers`) in the same transaction, on
 * whichever server of a cluster issued it. The files are rebuilt from the store alone — the
 * server's own user, every device with a hash that is not disabled, the lines of an optional
 * operator-owned include file — so a disabled device can be enabled again without a new
 * credential, and any server can take over the writing.
 *
 * One writer: only the leader runs `start()` (a leader duty). It rebuilds on every local identity
 * event and, for events on other servers, whenever a poll sees the store's broker-user revision
 * (bumped by each relevant change) or the files themselves change. It writes and reloads only
 * when the text differs from what is on disk; the sessions to close are those of devices whose
 * line the rewrite dropped or changed, whoever caused it.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import mqtt from 'mqtt';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { join } from 'node:path';
import type { BrokerUserRepository, CredentialRepository, DeviceRepository, FleetStore } from '../store/fleet-store.js';
import { formatAclFile } from './mosquitto-acl.js';
import { HEADER, MosquittoFiles, readInclude } from './mosquitto-files.js';
import { DEFAULT_SERVER_USERNAME, type MosquittoSettings } from './mosquitto-settings.js';
import {
  assertMosquittoUsername,
  formatPasswordFile,
  hashMosquittoPassword,
  parsePasswordFile,
  verifyMosquittoPassword,
} from './mosquitto-passwd.js';

export { writeAtomic } from './mosquitto-files.js';

/** Identity's changes of broker users (see identity/identity-service.ts), awaited by identity. */
export interface BrokerUserChanges {
  followBrokerUsers(fn: (why: string) => Promise<void>): void;
}

export interface MosquittoSyncStatus {
  /** Whether this server is the one writing the files (the leader). */
  writer: boolean;
  devices: number;
  enabled: number;
  writes: number;
  reloads: number;
  lastError: string | null;
}

export interface MosquittoSyncOptions {
  /**
   * Called after a reload for each device whose live session Mosquitto has just closed
   * (disabled, revoked, password rotated). Mosquitto publishes no last will for a client it
   * drops on reload, so the server marks such devices offline itself.
   */
  onSessionClosed?: (deviceId: string, session: number | undefined) => void;
  /** How often the writer checks the store for changes made on other servers (default 2000 ms). */
  pollMs?: number;
}

/** The per-server state file of earlier versions, imported once into the store. */
const legacyStateSchema = z.object({
  v: z.literal(1),
  devices: z.record(z.string(), z.object({ hash: z.string().regex(/^\$7\$/), enabled: z.boolean() })),
});

export class MosquittoSync {
  private readonly files: MosquittoFiles;
  private serverHash: string;
  private counts = { devices: 0, enabled: 0 };
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  /** Revision and file stamp the files were last built from; a poll rebuilds when either moved. */
  private built: { revision: number; stamp: string } | undefined;
  private pass: Promise<void> | undefined;
  private passAgain = false;

  constructor(
    private readonly settings: MosquittoSettings,
    private readonly server: { username: string; password: string },
    private readonly store: {
      brokerUsers: BrokerUserRepository;
      credentials: CredentialRepository;
      devices: DeviceRepository;
    },
    private readonly log: Logger,
    private readonly opts: MosquittoSyncOptions = {},
  ) {
    assertMosquittoUsername(server.username);
    if (!server.password)
      throw new Error(
        'the fleet server needs its own MQTT password for Mosquitto: set mqtt.password (--mqtt-password)',
      );
    this.files = new MosquittoFiles(settings, log, opts.onSessionClosed);
    this.serverHash = this.serverLineOnDisk() ?? hashMosquittoPassword(server.password);
  }

  /** Whether the password file on disk already lets this server log in. */
  serverUserWritten(): boolean {
    return this.serverLineOnDisk() !== undefined;
  }

  /**
   * Imports `<dataDir>/mosquitto-users.json` of earlier versions (hashes of devices that still
   * hold a credential, where the store has none yet), then renames it to `.imported` so it is
   * read once. Returns how many hashes were stored.
   */
  async importLegacy(path: string): Promise<number> {
    if (!existsSync(path)) return 0;
    const parsed = legacyStateSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success)
      throw new Error(
        `${path} is not a valid Mosquitto credential store; restore it from a backup or delete it and re-issue device credentials`,
      );
    let stored = 0;
    for (const [deviceId, { hash }] of Object.entries(parsed.data.devices))
      if ((await this.store.credentials.get(deviceId)) && (await this.store.brokerUsers.putIfAbsent(deviceId, hash)))
        stored++;
    renameSync(path, `${path}.imported`);
    this.log.info({ stored, from: path }, 'imported Mosquitto password hashes into the fleet store');
    return stored;
  }

  /**
   * Logs enabled devices that hold a credential but no broker hash (enrolled before the files
   * were managed, or a hash lost): they cannot log in to Mosquitto until issued a new credential.
   */
  async reportDevicesWithoutHash(): Promise<void> {
    const hashed = new Set((await this.store.brokerUsers.list()).map((u) => u.deviceId));
    const missing: string[] = [];
    for (const d of await this.store.devices.list({ disabled: false }))
      if (!hashed.has(d.id) && (await this.store.credentials.get(d.id))) missing.push(d.id);
    if (missing.length)
      this.log.warn(
        { devices: missing.slice(0, 20), count: missing.length },
        'enrolled devices without a Mosquitto credential (enrolled before external mode was set up); issue them new credentials',
      );
  }

  /** Becomes the writer (leader duty): rebuilds now, then follows events and polls the store. */
  async start(): Promise<void> {
    this.running = true;
    await this.sync('became the writer of the Mosquitto files');
    // The writer before us may have died between writing the files and reloading them.
    this.files.requestReload();
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs ?? 2000);
    this.timer.unref();
  }

  /** Stops writing (lost the lead, shutting down); waits for a rebuild in progress. */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    this.timer = undefined;
    this.built = undefined;
    while (this.pass) await this.pass;
  }

  /**
   * A change made on this server makes a running writer rebuild at once (identity answers once
   * the files are written) instead of at its next poll; on other servers nothing happens here.
   */
  attach(identity: BrokerUserChanges): void {
    identity.followBrokerUsers((why) => (this.running ? this.sync(why) : Promise.resolve()));
  }

  /**
   * Rebuilds the files from the store (one pass at a time; a request during a pass runs one
   * more after it). Failures are logged and kept in status(), never thrown.
   */
  sync(why: string): Promise<void> {
    if (this.pass) {
      this.passAgain = true;
      return this.pass;
    }
    this.pass = (async () => {
      try {
        do {
          this.passAgain = false;
          try {
            await this.rebuild(why);
          } catch (err) {
            this.files.fail((err as Error).message);
          }
        } while (this.passAgain);
      } finally {
        this.pass = undefined;
      }
    })();
    return this.pass;
  }

  status(): MosquittoSyncStatus {
    return { writer: this.running, ...this.counts, ...this.files.stats };
  }

  /** Resolves when no rebuild and no reload command is running or queued. */
  async settled(): Promise<void> {
    while (this.pass) await this.pass;
    await this.files.settled();
  }

  private async poll(): Promise<void> {
    if (!this.running || this.pass) return;
    this.files.retryReload();
    try {
      const revision = await this.store.brokerUsers.revision();
      if (this.built && this.built.revision === revision && this.built.stamp === this.files.stamp()) return;
    } catch (err) {
      this.files.fail(`cannot read the broker users from the fleet store: ${(err as Error).message}`);
      return;
    }
    if (this.running) await this.sync('changed in the fleet store or on disk');
  }

  private async rebuild(why: string): Promise<void> {
    // The revision first: a change committed after it is read bumps it again, so the next poll
    // rebuilds once more rather than never.
    const revision = await this.store.brokerUsers.revision();
    const users = await this.store.brokerUsers.list();
    const onDisk = this.files.passwords();
    // Another server may have written our line with its own salt: keep it, no needless rewrite.
    const ours = onDisk.get(this.server.username);
    if (ours && ours !== this.serverHash && verifyMosquittoPassword(this.server.password, ours)) this.serverHash = ours;

    const wanted = new Map<string, string>();
    const managed = new Set<string>([this.server.username]);
    for (const u of users) {
      if (u.deviceId === this.server.username) {
        this.log.warn({ deviceId: u.deviceId }, "a device uses the fleet server's MQTT username; it is left out");
        continue;
      }
      managed.add(u.deviceId);
      if (!u.disabled) wanted.set(u.deviceId, u.passwordHash);
    }
    const others = new Map<string, string>();
    if (this.settings.includePasswordFile)
      for (const [username, hash] of parsePasswordFile(readInclude(this.settings.includePasswordFile))) {
        if (managed.has(username))
          this.log.warn(
            { username, file: this.settings.includePasswordFile },
            'include file repeats a user EdgeLoop manages; ignoring that line',
          );
        else others.set(username, hash);
      }
    const entries = [{ username: this.server.username, hash: this.serverHash }];
    for (const [username, hash] of [...wanted, ...others]) entries.push({ username, hash });
    const extra = this.settings.includeAclFile ? readInclude(this.settings.includeAclFile) : undefined;
    const text = {
      passwords: formatPasswordFile(entries, HEADER),
      acl: formatAclFile({ serverUsername: this.server.username, header: HEADER, ...(extra ? { extra } : {}) }),
    };
    // Sessions to end: devices whose line is gone (disabled, revoked) or changed (rotated).
    // Each with the session it has now: by the time a reload command returns, the device may
    // already be back on a new session, which must not be marked offline.
    const closing = await Promise.all(
      [...onDisk]
        .filter(([name, hash]) => name !== this.server.username && !others.has(name) && wanted.get(name) !== hash)
        .map(async ([deviceId]) => ({ deviceId, session: (await this.store.devices.get(deviceId))?.session })),
    );
    this.files.update(text, closing, why);
    this.counts = { devices: users.length, enabled: wanted.size };
    this.built = { revision, stamp: this.files.stamp() };
  }

  private serverLineOnDisk(): string | undefined {
    let line: string | undefined;
    try {
      line = this.files.passwords().get(this.server.username);
    } catch {
      return undefined;
    }
    return line && verifyMosquittoPassword(this.server.password, line) ? line : undefined;
  }
}

/**
 * Waits until the broker accepts these credentials: after a reload signal Mosquitto rereads its
 * files on its next loop turn, so the first connect can still be refused. Gives up with the
 * broker's last answer after `timeoutMs`.
 */
export async function untilBrokerAccepts(
  url: string,
  auth: { username?: string; password?: string },
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const client = mqtt.connect(url, {
      ...auth,
      clientId: `edgeloop-probe-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    const outcome = await new Promise<Error | undefined>((resolve) => {
      client.once('connect', () => resolve(undefined));
      client.once('error', (err) => resolve(err));
      client.once('close', () => resolve(new Error('connection closed')));
    });
    await client.endAsync(true).catch(() => undefined);
    if (!outcome) return;
    if (Date.now() > deadline) {
      throw new Error(
        /not authori[sz]ed|bad user ?name or password/i.test(outcome.message)
          ? `the broker at ${url} refuses the fleet server's user "${auth.username}": ${outcome.message}; check that Mosquitto reads the password file EdgeLoop writes (password_file) and was reloaded`
          : `cannot reach the broker at ${url}: ${outcome.message}; is Mosquitto running and listening there (--mqtt-url)?`,
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 500)));
  }
}

/**
 * The sync of a server on an external Mosquitto, ready before the server's own client logs in:
 * an old per-server state file imported, our own user in the password file, identity followed.
 */
export async function startMosquittoSync(
  mqttConfig: { username?: string | undefined; password?: string | undefined },
  settings: MosquittoSettings,
  deps: { store: FleetStore; identity: BrokerUserChanges; log: Logger; dataDir: string; pollMs: number },
): Promise<MosquittoSync> {
  const { store, identity, log } = deps;
  const mosquitto = new MosquittoSync(
    settings,
    { username: mqttConfig.username ?? DEFAULT_SERVER_USERNAME, password: mqttConfig.password ?? '' },
    store,
    log,
    {
      pollMs: deps.pollMs,
      onSessionClosed: (id, session) => {
        // Mosquitto drops the session on reload without its last will: record the death ourselves,
        // of the session the device had when its line changed (a newer one is left alone).
        if (session === undefined) return;
        void store.devices
          .recordDeath(id, session)
          .catch((err: Error) => log.warn({ deviceId: id, err: err.message }, 'could not record the dropped session'));
      },
    },
  );
  await mosquitto.importLegacy(join(deps.dataDir, 'mosquitto-users.json'));
  // The files are the leader's to write, but the leader is chosen after the bus is up, and
  // the bus cannot log in to a broker whose file lacks our user (a fresh setup): then one
  // server at a time writes them once here; the leader's first pass rebuilds them anyway.
  if (!mosquitto.serverUserWritten())
    await store.cluster.startupStep(async () => {
      if (!mosquitto.serverUserWritten()) await mosquitto.sync('the fleet server user is not in the file yet');
    });
  await mosquitto.settled();
  mosquitto.attach(identity);
  await mosquitto.reportDevicesWithoutHash();
  return mosquitto;
}
