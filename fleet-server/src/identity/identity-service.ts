/**
 * @module identity/identity-service
 * Device identity in one place: enrollment (token → credential), checking device credentials
 * (broker, artifact downloads), disabling and re-enabling devices, revoking credentials, and the
 * admin and enrollment token stores, and the console's sessions. Emits events other parts mirror:
 *
 *   credential-issued  {deviceId, password}  enrollment or re-enrollment (a new password)
 *   credential-revoked {deviceId}            the credential was deleted
 *   device-disabled    {deviceId}            live sessions must be closed (the embedded broker does)
 *   device-enabled     {deviceId}
 *
 * An external Mosquitto's password file is built from the store (broker/mosquitto-sync.ts); its
 * writer follows these changes through `followBrokerUsers`, awaited before the change is answered.
 */
import { EventEmitter } from 'node:events';
import { isValidId, type DeviceSummary, type EnrollResponse } from '@edgeloop/protocol';
import type { FleetStore } from '../store/fleet-store.js';
import { DeviceDirectory } from '../devices/device-directory.js';
import { AdminTokens } from './admin-tokens.js';
import { ConsoleSessions } from './console-sessions.js';
import { DeviceCredentials } from './device-credentials.js';
import { EnrollmentTokens } from './enrollment-tokens.js';

/** The server's own MQTT client logs in with this username (a per-process secret, full access). */
export const SERVER_MQTT_USERNAME = 'edgeloop-server';

/** Device ids that could collide with the server's own MQTT username or client ids. */
export function isReservedDeviceId(id: string): boolean {
  return id === SERVER_MQTT_USERNAME || id.startsWith('edgeloop-fleet-');
}

export interface IdentityEvents {
  'credential-issued': [{ deviceId: string; password: string }];
  'credential-revoked': [{ deviceId: string }];
  'device-disabled': [{ deviceId: string }];
  'device-enabled': [{ deviceId: string }];
}

/** What a device needs to join: returned by POST /api/v1/enroll and written into its config. */
export type Enrollment = EnrollResponse;

export interface EnrollRequest {
  token: string;
  deviceId: string;
  arch?: string | undefined;
  hardware?: string | undefined;
}

/** A refusal with the HTTP status the API answers. */
export class IdentityError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'IdentityError';
  }
}

export interface IdentityEndpoints {
  /** The broker URL devices connect to. */
  mqttUrl: string;
  /** The base URL devices download artifacts from. */
  httpUrl: string;
  /** The root public keys devices trust (they learn the signing keys from the root-signed keyset). */
  trustedKeys: string[];
}

export type DeviceAuthResult = { ok: true } | { ok: false; reason: string };

export class IdentityService extends EventEmitter<IdentityEvents> {
  readonly adminTokens: AdminTokens;
  /** The console's browser sessions, each acting as the admin token it was opened with. */
  readonly consoleSessions: ConsoleSessions;
  readonly enrollmentTokens: EnrollmentTokens;
  readonly credentials: DeviceCredentials;
  private readonly directory: DeviceDirectory;
  private readonly brokerFollowers: Array<(why: string) => Promise<void>> = [];

  constructor(
    private readonly store: FleetStore,
    private readonly endpoints: () => IdentityEndpoints,
    opts: { brokerPasswordHash?: (password: string) => string } = {},
  ) {
    super();
    this.adminTokens = new AdminTokens(store);
    this.consoleSessions = new ConsoleSessions(store, this.adminTokens);
    this.enrollmentTokens = new EnrollmentTokens(store);
    this.credentials = new DeviceCredentials(store, opts.brokerPasswordHash);
    this.directory = new DeviceDirectory(store);
  }

  /**
   * Trades an enrollment token for a credential. One transaction takes a use of the token and
   * writes the credential, so a token is never spent without a credential and vice versa.
   *
   * A device that holds a credential cannot be enrolled again: tokens are not bound to a device
   * id, so allowing it would let anyone with any token take over any device (its credentials, its
   * assignments, its live session). A re-installed device is enrolled again after an operator
   * revoked its old credential (`edgeloop devices revoke`), which is audited.
   */
  async enroll(req: EnrollRequest, now = Date.now()): Promise<Enrollment & { reenrolled: boolean; tokenId: string }> {
    if (!isValidId(req.deviceId))
      throw new IdentityError(
        400,
        `invalid device id "${req.deviceId}": use 1-64 characters from A-Z a-z 0-9 _ . - starting with a letter or digit`,
      );
    if (isReservedDeviceId(req.deviceId))
      throw new IdentityError(
        400,
        `device id "${req.deviceId}" is reserved for the fleet server; choose another (--device-id)`,
      );
    const result = await this.store.transaction(async (tx) => {
      if (await tx.devices.isDisabled(req.deviceId)) {
        throw new IdentityError(
          403,
          `device "${req.deviceId}" is disabled and cannot enroll; an operator can re-enable it: edgeloop devices enable ${req.deviceId}`,
        );
      }
      const consumed = await this.enrollmentTokens.consume(req.token, now);
      if (!consumed.ok) throw new IdentityError(401, consumed.reason);
      // After the token check, so a stranger cannot probe which device ids exist.
      if (await this.credentials.has(req.deviceId)) {
        throw new IdentityError(
          409,
          `device "${req.deviceId}" is already enrolled; a token cannot take over an enrolled device. If this is the same device re-installed, an operator revokes its old credential first (edgeloop devices revoke ${req.deviceId}), then enroll again`,
        );
      }
      // The device row may exist from before (a revoked credential): that is a re-enrollment.
      const reenrolled = await tx.devices.exists(req.deviceId);
      // The device row before the credential: issuing takes the broker users' revision row, and
      // setDisabled takes the device row first too, so two such transactions cannot deadlock.
      await tx.devices.registerEnrolled(
        req.deviceId,
        { group: consumed.token.group, tags: consumed.token.tags },
        { ...(req.arch ? { arch: req.arch } : {}), ...(req.hardware ? { hardware: req.hardware } : {}) },
        now,
      );
      const password = await this.credentials.issue(req.deviceId, consumed.token.id, now);
      return { password, reenrolled, tokenId: consumed.token.id };
    });
    this.emit('credential-issued', { deviceId: req.deviceId, password: result.password });
    await this.brokerUsersChanged(`credential issued for ${req.deviceId}`);
    const ep = this.endpoints();
    return {
      deviceId: req.deviceId,
      username: req.deviceId,
      password: result.password,
      mqttUrl: ep.mqttUrl,
      httpUrl: ep.httpUrl,
      trustedKeys: ep.trustedKeys,
      reenrolled: result.reenrolled,
      tokenId: result.tokenId,
    };
  }

  /**
   * Issues a credential without a token: for in-process tests and simulated fleets (benchmarks)
   * that need many devices fast. Not exposed over the API.
   */
  async issueCredential(
    deviceId: string,
    labels: { group?: string | null; tags?: Record<string, string> } = {},
    now = Date.now(),
  ): Promise<string> {
    if (!isValidId(deviceId) || isReservedDeviceId(deviceId))
      throw new IdentityError(400, `invalid or reserved device id "${deviceId}"`);
    const password = await this.store.transaction(async (tx) => {
      await tx.devices.registerEnrolled(deviceId, { group: labels.group ?? null, tags: labels.tags ?? {} }, {}, now);
      return this.credentials.issue(deviceId, null, now);
    });
    this.emit('credential-issued', { deviceId, password });
    await this.brokerUsersChanged(`credential issued for ${deviceId}`);
    return password;
  }

  /**
   * fn runs after every committed change of what an external broker's password file holds
   * (credential issued or revoked, device disabled or enabled), and the change is answered only
   * when it resolved. On the server that writes the broker's files this means a device is handed
   * a password the files already hold; on the other servers of a cluster the writer picks the
   * change up at its next poll (cluster.leaderPollMs), and the device's first logins may be
   * refused until then (it retries).
   */
  followBrokerUsers(fn: (why: string) => Promise<void>): void {
    this.brokerFollowers.push(fn);
  }

  private async brokerUsersChanged(why: string): Promise<void> {
    for (const fn of this.brokerFollowers) await fn(why).catch(() => undefined);
  }

  /** Device login (broker CONNECT, HTTP Basic on artifact downloads). */
  async authenticateDevice(deviceId: string, password: string): Promise<DeviceAuthResult> {
    if (!isValidId(deviceId)) return { ok: false, reason: 'username is not a valid device id' };
    if (!(await this.credentials.verify(deviceId, password))) {
      return {
        ok: false,
        reason: (await this.credentials.has(deviceId))
          ? 'wrong password'
          : 'no credential for this device (enroll it, or it was revoked)',
      };
    }
    if (await this.store.devices.isDisabled(deviceId)) return { ok: false, reason: 'device is disabled' };
    return { ok: true };
  }

  /** false if the device is unknown. Emits device-disabled (live sessions are closed) when it changed. */
  async setDisabled(deviceId: string, disabled: boolean): Promise<boolean> {
    if (!(await this.store.devices.exists(deviceId))) return false;
    const was = await this.store.transaction(async (tx) => {
      const before = await tx.devices.isDisabled(deviceId);
      await tx.devices.setDisabled(deviceId, disabled);
      // The broker's password file leaves disabled devices out: tell its writer to rebuild.
      if (before !== disabled) await tx.brokerUsers.touch();
      return before;
    });
    if (was !== disabled) {
      this.emit(disabled ? 'device-disabled' : 'device-enabled', { deviceId });
      await this.brokerUsersChanged(`device ${deviceId} ${disabled ? 'disabled' : 'enabled'}`);
    }
    return true;
  }

  setLabels(deviceId: string, labels: { group?: string | null; tags?: Record<string, string> }): Promise<boolean> {
    return this.store.devices.setLabels(deviceId, labels);
  }

  device(deviceId: string): Promise<DeviceSummary | undefined> {
    return this.directory.get(deviceId);
  }

  /** Deletes the device's credential (it must enroll again); false if it had none. */
  async revokeCredential(deviceId: string): Promise<boolean> {
    const revoked = await this.credentials.revoke(deviceId);
    if (revoked) {
      this.emit('credential-revoked', { deviceId });
      await this.brokerUsersChanged(`credential revoked for ${deviceId}`);
    }
    return revoked;
  }
}
