/**
 * @module identity/device-credentials
 * One credential per device: username = device id, a random 32-byte password (base64url) that
 * the broker and the artifact route check. Stored as a sha256 digest (secrets.ts); issuing again
 * replaces it, so the old password stops working at once.
 *
 * With an external Mosquitto, the broker checks the same password against its own file, which
 * needs Mosquitto's `$7$` hash of it: that hash is stored beside the credential in the same
 * transaction (store `brokerUsers`), since the plaintext exists only while it is issued and any
 * server of a cluster may issue it while only the leader writes the file.
 */
import type { FleetStore } from '../store/fleet-store.js';
import { hashSecret, newSecret, secretMatches } from './secrets.js';

export class DeviceCredentials {
  constructor(
    private readonly store: FleetStore,
    /** Mosquitto's hash of a password, when an external Mosquitto checks device logins. */
    private readonly brokerPasswordHash?: (password: string) => string,
  ) {}

  /** Creates or rotates the device's password; returns the plaintext (shown once). */
  async issue(deviceId: string, enrolledWith: string | null, now = Date.now()): Promise<string> {
    const password = newSecret(32);
    await this.store.transaction(async (tx) => {
      await tx.credentials.put(deviceId, hashSecret(password), now, enrolledWith);
      if (this.brokerPasswordHash) await tx.brokerUsers.put(deviceId, this.brokerPasswordHash(password), now);
    });
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

  /** Deletes the credential and the broker's hash of it together. */
  revoke(deviceId: string): Promise<boolean> {
    return this.store.transaction(async (tx) => {
      const removed = await tx.credentials.remove(deviceId);
      await tx.brokerUsers.remove(deviceId);
      return removed;
    });
  }
}
