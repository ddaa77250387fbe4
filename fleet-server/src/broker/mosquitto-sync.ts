/**
 * @module broker/mosquitto-sync
 * Keeps an external Mosquitto's password file and ACL file in step with device identity, then
 * asks Mosquitto to reload them (SIGHUP to the pid in its pid file, or an operator's command).
 *
 * Why files: they are what the issue asks for (`pattern` rules on the username), they work with
 * every Mosquitto 2.x without a plugin, and on reload Mosquitto 2.x re-checks every connected
 * client against the new password file and disconnects those no longer in it, so disabling a
 * device takes effect live, not only at its next reconnect (tested against a real Mosquitto).
 *
 * The server learns a device's password exactly once, when the credential is issued. It keeps
 * only Mosquitto's `$7$` hash of it, in `<dataDir>/mosquitto-users.json` (0600), so the password
 * file can be rewritten from scratch at any time, and a disabled device can be enabled again
 * without a new credential. The password file holds: the server's own user, every enabled
 * device, and the lines of an optional operator-owned include file.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import mqtt from 'mqtt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { formatAclFile } from './mosquitto-acl.js';
import type { MosquittoSettings } from './mosquitto-settings.js';
import {
  assertMosquittoUsername,
  formatPasswordFile,
  hashMosquittoPassword,
  parsePasswordFile,
  verifyMosquittoPassword,
} from './mosquitto-passwd.js';

/** What identity hands us; the identity service emits these (see identity/). */
export interface IdentityEventSource {
  on(event: 'credential-issued', listener: (e: { deviceId: string; password: string }) => void): unknown;
  on(
    event: 'credential-revoked' | 'device-disabled' | 'device-enabled',
    listener: (e: { deviceId: string }) => void,
  ): unknown;
}

const stateSchema = z.object({
  v: z.literal(1),
  devices: z.record(z.string(), z.object({ hash: z.string().regex(/^\$7\$/), enabled: z.boolean() })),
});
type State = z.infer<typeof stateSchema>;

const HEADER =
  '# Written by the EdgeLoop fleet server: edits are overwritten. Add your own lines to the include file\n# named in mqtt.external.mosquitto (see docs/external-broker.md).\n';

export interface MosquittoSyncStatus {
  devices: number;
  enabled: number;
  writes: number;
  reloads: number;
  lastError: string | null;
}

export class MosquittoSync {
  private state: State;
  private serverHash: string;
  private readonly stats: MosquittoSyncStatus = { devices: 0, enabled: 0, writes: 0, reloads: 0, lastError: null };
  private reloadRunning: Promise<void> | undefined;
  private reloadAgain = false;
  /** Devices whose session the next completed reload closes. */
  private readonly closing = new Set<string>();

  constructor(
    private readonly settings: MosquittoSettings,
    private readonly server: { username: string; password: string },
    private readonly statePath: string,
    private readonly log: Logger,
    /**
     * Called after a reload for each device whose live session Mosquitto has just closed
     * (disabled, revoked, password rotated). Mosquitto publishes no last will for a client it
     * drops on reload, so the server marks such devices offline itself.
     */
    private readonly onSessionClosed?: (deviceId: string) => void,
  ) {
    assertMosquittoUsername(server.username);
    if (!server.password)
      throw new Error(
        'the fleet server needs its own MQTT password for Mosquitto: set mqtt.password (--mqtt-password)',
      );
    this.state = this.loadState();
    // Keep the server's line unchanged across restarts when the password did not change: no
    // needless rewrite of a file other tools may watch.
    const existing = existsSync(settings.passwordFile)
      ? parsePasswordFile(readFileSync(settings.passwordFile, 'utf8')).get(server.username)
      : undefined;
    this.serverHash =
      existing && verifyMosquittoPassword(server.password, existing)
        ? existing
        : hashMosquittoPassword(server.password);
  }

  /**
   * Writes both files and reloads: call once at start so the broker matches the server's state.
   * `known`: identity's devices with a credential, to align with first (see reconcile).
   */
  async start(known?: ReadonlyArray<{ deviceId: string; enabled: boolean }>): Promise<void> {
    if (known) this.align(known);
    this.apply('start');
    await this.settled();
  }

  /**
   * Subscribes to identity: every credential change is in the files before the next event.
   * A failure is logged and kept in status(), never thrown into identity's emit (the enrollment
   * itself has already been committed).
   */
  attach(identity: IdentityEventSource): void {
    const guarded =
      <E extends { deviceId: string }>(what: string, fn: (e: E) => void) =>
      (e: E) => {
        try {
          fn(e);
        } catch (err) {
          this.fail(`cannot mirror ${what} for device ${e.deviceId} into Mosquitto: ${(err as Error).message}`);
        }
      };
    identity.on(
      'credential-issued',
      guarded('a new credential', ({ deviceId, password }: { deviceId: string; password: string }) =>
        this.issue(deviceId, password),
      ),
    );
    identity.on(
      'credential-revoked',
      guarded('a revocation', ({ deviceId }) => this.revoke(deviceId)),
    );
    identity.on(
      'device-disabled',
      guarded('disabling', ({ deviceId }) => this.setEnabled(deviceId, false)),
    );
    identity.on(
      'device-enabled',
      guarded('enabling', ({ deviceId }) => this.setEnabled(deviceId, true)),
    );
  }

  issue(deviceId: string, password: string): void {
    assertMosquittoUsername(deviceId);
    if (deviceId === this.server.username)
      throw new Error(
        `device id "${deviceId}" is the fleet server's own MQTT username; enroll the device under another id`,
      );
    const previous = this.state.devices[deviceId];
    if (previous?.enabled) this.closing.add(deviceId); // a session opened with the old password ends
    this.state.devices[deviceId] = { hash: hashMosquittoPassword(password), enabled: previous?.enabled ?? true };
    this.apply(`credential issued for ${deviceId}`);
  }

  revoke(deviceId: string): void {
    if (!(deviceId in this.state.devices)) return;
    delete this.state.devices[deviceId];
    this.closing.add(deviceId);
    this.apply(`credential revoked for ${deviceId}`);
  }

  setEnabled(deviceId: string, enabled: boolean): void {
    const entry = this.state.devices[deviceId];
    if (!entry) {
      if (enabled)
        this.log.warn(
          { deviceId },
          'device enabled but the broker has no credential for it; issue a new credential so it can connect to Mosquitto',
        );
      return;
    }
    if (entry.enabled === enabled) return;
    entry.enabled = enabled;
    if (!enabled) this.closing.add(deviceId);
    this.apply(`device ${deviceId} ${enabled ? 'enabled' : 'disabled'}`);
  }

  /**
   * Aligns with identity's view at start-up (events missed by a crash between identity's commit
   * and our write): devices identity does not list lose their broker credential.
   */
  reconcile(devices: ReadonlyArray<{ deviceId: string; enabled: boolean }>): void {
    if (this.align(devices)) this.apply('reconciled with device identity');
  }

  /** Updates the state to identity's view; true if anything changed. Does not write. */
  private align(devices: ReadonlyArray<{ deviceId: string; enabled: boolean }>): boolean {
    const known = new Map(devices.map((d) => [d.deviceId, d.enabled]));
    let changed = false;
    for (const [id, entry] of Object.entries(this.state.devices)) {
      const enabled = known.get(id);
      if (enabled === undefined) {
        delete this.state.devices[id];
        changed = true;
      } else if (enabled !== entry.enabled) {
        entry.enabled = enabled;
        changed = true;
      }
    }
    const missing = devices.filter((d) => d.enabled && !(d.deviceId in this.state.devices)).map((d) => d.deviceId);
    if (missing.length)
      this.log.warn(
        { devices: missing.slice(0, 20), count: missing.length },
        'enrolled devices without a Mosquitto credential (enrolled before external mode was set up); issue them new credentials',
      );
    return changed;
  }

  status(): MosquittoSyncStatus {
    const devices = Object.values(this.state.devices);
    return { ...this.stats, devices: devices.length, enabled: devices.filter((d) => d.enabled).length };
  }

  /** Resolves when no reload command is running or queued. */
  async settled(): Promise<void> {
    while (this.reloadRunning) await this.reloadRunning;
  }

  /** State, password file, ACL file (each atomically), then reload. Synchronous up to the reload. */
  private apply(why: string): void {
    try {
      writeAtomic(this.statePath, `${JSON.stringify(this.state, null, 1)}\n`, 0o600, false);
      const entries = [{ username: this.server.username, hash: this.serverHash }];
      for (const [username, { hash, enabled }] of Object.entries(this.state.devices))
        if (enabled) entries.push({ username, hash });
      if (this.settings.includePasswordFile) {
        for (const [username, hash] of parsePasswordFile(readInclude(this.settings.includePasswordFile))) {
          if (username === this.server.username || username in this.state.devices) {
            this.log.warn(
              { username, file: this.settings.includePasswordFile },
              'include file repeats a user EdgeLoop manages; ignoring that line',
            );
          } else entries.push({ username, hash });
        }
      }
      writeAtomic(this.settings.passwordFile, formatPasswordFile(entries, HEADER), this.settings.fileMode, true);
      const extra = this.settings.includeAclFile ? readInclude(this.settings.includeAclFile) : undefined;
      writeAtomic(
        this.settings.aclFile,
        formatAclFile({ serverUsername: this.server.username, header: HEADER, ...(extra ? { extra } : {}) }),
        this.settings.fileMode,
        true,
      );
      this.stats.writes++;
      this.stats.lastError = null;
      this.log.info({ why, users: entries.length }, 'mosquitto password and ACL files written');
    } catch (err) {
      this.fail(
        `cannot write the Mosquitto files (${why}): ${(err as Error).message}; check that the fleet server may write ${dirname(this.settings.passwordFile)} and ${dirname(this.settings.aclFile)}`,
      );
      return;
    }
    this.reload();
  }

  private reload(): void {
    const how = this.settings.reload;
    if (!how) return;
    if ('pidFile' in how) {
      try {
        const pid = Number(readFileSync(how.pidFile, 'utf8').trim());
        if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${how.pidFile} does not hold a process id`);
        assertIsMosquitto(pid, how.pidFile);
        process.kill(pid, 'SIGHUP');
        this.reloaded();
      } catch (err) {
        this.fail(
          `cannot signal Mosquitto to reload: ${(err as Error).message}; check pid_file in mosquitto.conf matches ${how.pidFile} and that the fleet server runs as the same user (or use a reload command)`,
        );
      }
      return;
    }
    // A command may take a while (systemctl, docker): run one at a time, coalescing bursts.
    if (this.reloadRunning) {
      this.reloadAgain = true;
      return;
    }
    this.reloadRunning = new Promise<void>((resolve) => {
      execFile('/bin/sh', ['-c', how.command], { timeout: 30_000 }, (err, _stdout, stderr) => {
        if (err)
          this.fail(
            `Mosquitto reload command failed: ${stderr.trim() || err.message}; run "${how.command}" by hand to see why`,
          );
        else this.reloaded();
        this.reloadRunning = undefined;
        resolve();
        if (this.reloadAgain) {
          this.reloadAgain = false;
          this.reload();
        }
      });
    });
  }

  private reloaded(): void {
    this.stats.reloads++;
    const closed = [...this.closing];
    this.closing.clear();
    for (const id of closed) {
      try {
        this.onSessionClosed?.(id);
      } catch (err) {
        this.log.warn({ deviceId: id, err: (err as Error).message }, 'cannot record the closed session');
      }
    }
  }

  private fail(message: string): void {
    this.stats.lastError = message;
    this.log.error(message);
  }

  private loadState(): State {
    if (!existsSync(this.statePath)) return { v: 1, devices: {} };
    const parsed = stateSchema.safeParse(JSON.parse(readFileSync(this.statePath, 'utf8')));
    if (!parsed.success)
      throw new Error(
        `${this.statePath} is not a valid Mosquitto credential store; restore it from a backup or delete it and re-issue device credentials`,
      );
    return parsed.data;
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
 * A stale pid file can name a process that is not Mosquitto any more; SIGHUP would stop most
 * other programs. Where /proc tells (Linux), refuse to signal anything but mosquitto.
 */
function assertIsMosquitto(pid: number, pidFile: string): void {
  let comm: string;
  try {
    comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    if (existsSync('/proc/self/comm'))
      throw new Error(`no process ${pid} (from ${pidFile}) is running; is Mosquitto running?`);
    return; // no /proc: cannot tell, signal as configured
  }
  if (!comm.includes('mosquitto'))
    throw new Error(`process ${pid} named in ${pidFile} is "${comm}", not mosquitto (a stale pid file?)`);
}

function readInclude(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read include file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Temp file beside the target, fsync, rename: Mosquitto reloading at any moment reads either the
 * old or the new file, never half of one. An existing target keeps its mode and group (the
 * operator made it readable by the mosquitto user); `keepOwnership` false always uses `mode`.
 */
export function writeAtomic(path: string, text: string, mode: number, keepOwnership: boolean): void {
  mkdirSync(dirname(path), { recursive: true });
  const previous = keepOwnership && existsSync(path) ? statSync(path) : undefined;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(tmp, previous ? previous.mode & 0o777 : mode);
    if (previous && previous.gid !== process.getgid?.()) {
      try {
        chownSync(tmp, -1, previous.gid);
      } catch {
        // Not a member of that group: the file keeps our group; the mode alone may not let Mosquitto read it.
      }
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
