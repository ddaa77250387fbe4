/**
 * @module identity/device-credentials
 * One credential per device: username = device id, a random 32-byte password (base64url) that
 * the broker and the artifact route check. Stored as a sha256 digest (secrets.ts); issuing again
 * replaces it, so the old password stops working at once.
 */
import type { FleetStore } from '../store/fleet-store.js';
import { hashSecret, newSecret, secretMatches } from './secrets.js';

export class DeviceCredentials {
  constructor(private readonly store: FleetStore) {}

  /** Creates or rotates the device's password; returns the plaintext (shown once). */
  async issue(deviceId: string, enrolledWith: string | null, now = Date.now()): Promise<string> {
    const password = newSecret(32);
    await this.store.credentials.put(deviceId, hashSecret(password), now, enrolledWith);
    return password;
  }

  async verify(deviceId: string, password: string): Promise<boolean> {
    const row = await this.store.credentials.get(deviceId);
    // Hash anyway when there is no row, so unknown and known devices take the same time.
    return secretMatches(password, row?.secretHash ?? '0'.repeat(64)) && row !== undefined;
  }

  async has(deviceId: string): Promise<boolean> {
    return (await this.store.credentials.get(deviceId)) !== undefined;
  }

  async issuedAt(deviceId: string): Promise<number | undefined> {
    return (await this.store.credentials.get(deviceId))?.issuedAt;
  }

  revoke(deviceId: string): Promise<boolean> {
    return this.store.credentials.remove(deviceId);
  }
}
