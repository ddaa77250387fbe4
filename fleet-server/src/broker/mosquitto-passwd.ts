/**
 * @module broker/mosquitto-passwd
 * Mosquitto's password-file format, written by us instead of `mosquitto_passwd`: one
 * `username:$7$<iterations>$<base64 salt>$<base64 hash>` line per user, where `$7$` is
 * PBKDF2-HMAC-SHA512 over the password with a 12-byte salt and a 64-byte output (what
 * mosquitto_passwd 2.x writes; a real Mosquitto accepting these lines is checked by
 * test/security/mosquitto-acl.test.ts). The plaintext never touches the disk.
 */
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/** mosquitto_passwd's default. Device passwords are random 256-bit secrets, so key stretching adds nothing. */
export const MOSQUITTO_PBKDF2_ITERATIONS = 101;
const SALT_BYTES = 12;
const HASH_BYTES = 64;

/** Usernames become the first field of a colon-separated line and `%u` in ACL patterns. */
const USERNAME = /^[^:\s#+/]{1,128}$/;

export function assertMosquittoUsername(username: string): void {
  if (!USERNAME.test(username)) {
    throw new Error(
      `"${username}" cannot be a Mosquitto username: use 1-128 characters without ':', '/', '+', '#' or whitespace`,
    );
  }
}

/** The `$7$…` hash of one password with a fresh random salt. */
export function hashMosquittoPassword(password: string, iterations = MOSQUITTO_PBKDF2_ITERATIONS): string {
  if (password.length === 0) throw new Error('refusing to hash an empty MQTT password');
  const salt = randomBytes(SALT_BYTES);
  const hash = pbkdf2Sync(password, salt, iterations, HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Whether `password` matches a `$7$` hash (used to keep the server's own line stable across restarts). */
export function verifyMosquittoPassword(password: string, encoded: string): boolean {
  const m = /^\$7\$(\d{1,7})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(encoded);
  if (!m) return false;
  const expected = Buffer.from(m[3]!, 'base64');
  const actual = pbkdf2Sync(
    password,
    Buffer.from(m[2]!, 'base64'),
    Number(m[1]),
    expected.length || HASH_BYTES,
    'sha512',
  );
  return expected.length > 0 && timingSafeEqual(actual, expected);
}

export function isMosquittoHash(encoded: string): boolean {
  return /^\$[67]\$/.test(encoded);
}

/** `username:hash` lines, sorted for a stable file; usernames are checked, duplicates refused. */
export function formatPasswordFile(entries: ReadonlyArray<{ username: string; hash: string }>, header: string): string {
  const seen = new Set<string>();
  const lines = [...entries]
    .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
    .map(({ username, hash }) => {
      assertMosquittoUsername(username);
      if (seen.has(username)) throw new Error(`duplicate Mosquitto user "${username}" in the password file`);
      seen.add(username);
      if (!isMosquittoHash(hash)) throw new Error(`the hash for Mosquitto user "${username}" is not in $6$/$7$ format`);
      return `${username}:${hash}`;
    });
  return `${header}${lines.join('\n')}\n`;
}

/** Reads `username:hash` lines; blank lines and `#` comments are skipped. */
export function parsePasswordFile(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    users.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return users;
}
