/**
 * @module keys/rotation
 * Rotating the manifest signing key, end to end:
 *
 *   new key (pending) → keyset v+1 listing only it, signed by the root → key active, old key
 *   retired → every registered manifest re-signed with the new key (same version and artifact)
 *   → desired states republished (new keyset + re-signed manifests in one message) → audit.
 *
 * Devices accept the keyset first and then the re-signed manifests of the versions they already
 * run, without reloading them; manifests signed by the retired key are refused from then on.
 * With a local root it all happens in one call; with an offline root `begin` hands out the
 * unsigned keyset and `complete` takes the envelope the operator signed with the root.
 */
import type { Logger } from 'pino';
import type { PendingKeyset, RotateResponse } from '@edgeloop/protocol';
import type { AuditLog } from '../audit/audit-log.js';
import type { Deployments } from '../deploy/deployments.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { FleetStore } from '../store/fleet-store.js';
import type { KeyManager } from './key-manager.js';

export interface KeyRotationDeps {
  keys: KeyManager;
  registry: ModelRegistry;
  store: FleetStore;
  deployments: Deployments;
  audit: AuditLog;
  log: Logger;
}

export class KeyRotation {
  constructor(private readonly deps: KeyRotationDeps) {}

  /** Local root: rotates now. Offline root: returns the pending keyset to sign. */
  async rotate(actor: string): Promise<RotateResponse> {
    if (!this.deps.keys.root.pair) return this.begin(actor);
    const before = (await this.deps.keys.view()).signingKey?.keyId ?? null;
    const keyset = await this.deps.keys.rotateLocally();
    return this.afterActivation(
      actor,
      before,
      keyset.version,
      keyset.keys.map((k) => k.keyid),
    );
  }

  async begin(actor: string): Promise<RotateResponse> {
    const pending: PendingKeyset = await this.deps.keys.prepare();
    await this.deps.audit.record(actor, 'key.rotate.begin', pending.keyId, { keysetVersion: pending.version });
    return { state: 'pending', pending };
  }

  /** The operator's root-signed keyset for the pending key. */
  async complete(actor: string, envelope: unknown): Promise<RotateResponse> {
    const before = (await this.deps.keys.view()).signingKey?.keyId ?? null;
    const { keyset } = await this.deps.keys.complete(envelope);
    return this.afterActivation(
      actor,
      before,
      keyset.version,
      keyset.keys.map((k) => k.keyid),
    );
  }

  /** After the server made a keyset at start-up: re-sign what the old key signed, tell devices. */
  async afterBootstrap(): Promise<RotateResponse> {
    const ks = (await this.deps.keys.view()).keyset;
    return this.afterActivation('system', null, ks?.version ?? 0, ks?.keyIds ?? []);
  }

  private async afterActivation(
    actor: string,
    previousKey: string | null,
    version: number,
    keyIds: string[],
  ): Promise<RotateResponse> {
    const now = new Date();
    let resigned = 0;
    for (const row of await this.deps.store.models.list()) {
      // Revoked versions are never delivered again: nothing to re-sign.
      if (row.status === 'revoked') continue;
      await this.deps.registry.resign(row.name, row.version, now);
      resigned++;
    }
    const devices = await this.deps.deployments.republishAll();
    await this.deps.audit.record(actor, 'key.rotate', keyIds.join(','), {
      keysetVersion: version,
      previousKey,
      resigned,
      devices,
    });
    this.deps.log.info({ keysetVersion: version, keyIds, previousKey, resigned, devices }, 'signing key rotated');
    return { state: 'done', keyset: { version, keyIds }, resigned, devices };
  }
}
