/**
 * @module identity/device-credentials
 * One credential per device: username = device id, a random 32-byte password (base64url) that
 * the broker and the artifact route check. Stored as a sha256 digest (secrets.ts); issuing again
 * replaces it, so the old password stops working at once.
 */
import type { FleetDb } from '../store/fleet-db.js';
import { hashSecret, newSecret, secretMatches } from './secrets.js';

export class DeviceCredentials {
  constructor(private readonly db: FleetDb) {}

  /** Creates or rotates the device's password; returns the plaintext (shown once). */
  issue(deviceId: string, enrolledWith: string | null, now = Date.now()): string {
    const password = newSecret(32);
    this.db
      .prepare(
        `INSERT INTO device_credentials (device_id, secret_hash, issued_at, enrolled_with) VALUES (?, ?, ?, ?)
         ON CONFLICT(device_id) DO UPDATE SET secret_hash = excluded.secret_hash, issued_at = excluded.issued_at, enrolled_with = excluded.enrolled_with`,
      )
      .run(deviceId, hashSecret(password), now, enrolledWith);
    return password;
  }

  verify(deviceId: string, password: string): boolean {
    const row = this.db.prepare('SELECT secret_hash FROM device_credentials WHERE device_id = ?').get(deviceId) as { secret_hash: string } | undefined;
    // Hash anyway when there is no row, so unknown and known devices take the same time.
    return secretMatches(password, row?.secret_hash ?? '0'.repeat(64)) && row !== undefined;
  }

  has(deviceId: string): boolean {
    return this.db.prepare('SELECT 1 FROM device_credentials WHERE device_id = ?').get(deviceId) !== undefined;
  }

  issuedAt(deviceId: string): number | undefined {
    return (this.db.prepare('SELECT issued_at FROM device_credentials WHERE device_id = ?').get(deviceId) as { issued_at: number } | undefined)?.issued_at;
  }

  revoke(deviceId: string): boolean {
    return this.db.prepare('DELETE FROM device_credentials WHERE device_id = ?').run(deviceId).changes > 0;
  }
}
