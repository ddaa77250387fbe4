/**
 * @module broker/mosquitto-files
 * Writing an external Mosquitto's password and ACL files and asking it to reload them (SIGHUP to
 * the pid in its pid file, or an operator's command). What goes into the files is decided in
 * broker/mosquitto-sync.ts; this module only writes them atomically when their text changed, and
 * after a completed reload reports the device sessions that reload closed.
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
import type { Logger } from 'pino';
import type { MosquittoSettings } from './mosquitto-settings.js';
import { parsePasswordFile } from './mosquitto-passwd.js';

export const HEADER =
  '# Written by the EdgeLoop fleet server: edits are overwritten. Add your own lines to the include file\n# named in mqtt.external.mosquitto (see docs/external-broker.md).\n';

export interface MosquittoFileStats {
  writes: number;
  reloads: number;
  lastError: string | null;
}

export class MosquittoFiles {
  readonly stats: MosquittoFileStats = { writes: 0, reloads: 0, lastError: null };
  /** Files were written (or a new writer took over) and Mosquitto has not reloaded them since. */
  private reloadOwed = false;
  private reloadRunning: Promise<void> | undefined;
  private reloadAgain = false;
  /** Devices whose session the next completed reload closes, with that session (when known). */
  private readonly closing = new Map<string, number | undefined>();

  constructor(
    private readonly settings: MosquittoSettings,
    private readonly log: Logger,
    private readonly onSessionClosed?: (deviceId: string, session: number | undefined) => void,
  ) {}

  /** The password file's users as on disk now (empty when there is no file yet). */
  passwords(): Map<string, string> {
    return existsSync(this.settings.passwordFile)
      ? parsePasswordFile(readFileSync(this.settings.passwordFile, 'utf8'))
      : new Map();
  }

  /** Changes whenever one of the files we write or read is replaced or edited by anyone. */
  stamp(): string {
    const { passwordFile, aclFile, includePasswordFile, includeAclFile } = this.settings;
    return [passwordFile, aclFile, includePasswordFile, includeAclFile]
      .map((f) => {
        if (!f) return '-';
        try {
          const s = statSync(f);
          return `${s.ino}:${s.size}:${s.mtimeMs}`;
        } catch {
          return 'none';
        }
      })
      .join('|');
  }

  /**
   * Writes each file whose text differs from the one on disk, then reloads if one did; `closing`
   * are the devices whose live session this reload ends. False when nothing needed writing.
   * Throws when a file cannot be written (nothing is reloaded then).
   */
  update(
    text: { passwords: string; acl: string },
    closing: ReadonlyArray<{ deviceId: string; session: number | undefined }>,
    why: string,
  ): boolean {
    const targets = [
      [this.settings.passwordFile, text.passwords],
      [this.settings.aclFile, text.acl],
    ] as const;
    const stale = targets.filter(([path, wanted]) => readOrNull(path) !== wanted);
    if (stale.length === 0) return false;
    try {
      for (const [path, wanted] of stale) writeAtomic(path, wanted, this.settings.fileMode, true);
    } catch (err) {
      throw new Error(
        `cannot write the Mosquitto files (${why}): ${(err as Error).message}; check that the fleet server may write ${dirname(this.settings.passwordFile)} and ${dirname(this.settings.aclFile)}`,
        { cause: err },
      );
    }
    this.stats.writes++;
    this.log.info({ why, closing: closing.length }, 'mosquitto password and ACL files written');
    for (const c of closing) this.closing.set(c.deviceId, c.session);
    this.requestReload();
    return true;
  }

  /**
   * Asks Mosquitto to reload the files as they are. Until a reload succeeds it stays owed and
   * retryReload() tries again: files written but never loaded would let a disabled device in.
   */
  requestReload(): void {
    this.reloadOwed = true;
    this.reload();
  }

  /** Tries the reload again if the last one failed (called on every poll). */
  retryReload(): void {
    if (this.reloadOwed && !this.reloadRunning) this.reload();
  }

  /** Resolves when no reload command is running or queued. */
  async settled(): Promise<void> {
    while (this.reloadRunning) await this.reloadRunning;
  }

  fail(message: string): void {
    if (this.stats.lastError !== message) this.log.error(message);
    this.stats.lastError = message;
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
    this.reloadOwed = false;
    this.stats.lastError = null;
    const closed = [...this.closing];
    this.closing.clear();
    for (const [id, session] of closed) {
      try {
        this.onSessionClosed?.(id, session);
      } catch (err) {
        this.log.warn({ deviceId: id, err: (err as Error).message }, 'cannot record the closed session');
      }
    }
  }
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
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

export function readInclude(path: string): string {
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
