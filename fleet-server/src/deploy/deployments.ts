/**
 * @module deploy/deployments
 * Assigning model versions to devices. A device's desired state (every model assigned to it,
 * each with its signed manifest and artifact URL) is one retained message on its `desired`
 * topic: a device that was offline gets it the moment it subscribes. Every state is signed by
 * the online signing key with the next counter of that device (protocol/src/desired-state.ts),
 * so a device applies only what this server issued, and nothing older than what it applied.
 */
import type { Logger } from 'pino';
import {
  DesiredStateTooLargeError,
  deviceTopic,
  encodeMessage,
  signDesiredState,
  type DesiredModel,
  type DesiredState,
  type SampleCapture,
  type SignedEnvelope,
  type SigningKeyPair,
} from '@edgeloop/protocol';
import type { FleetStore } from '../store/fleet-store.js';
import { devicesWithAssignments, removeVersionEverywhere } from './assigned-versions.js';
import { RegistryError } from '../registry/model-registry.js';
import { assignmentBlocker } from '../registry/model-status.js';

export class Deployments {
  constructor(
    private readonly store: FleetStore,
    /** Known only once the HTTP server listens (its port may be chosen by the OS). */
    private readonly publicUrl: () => string,
    private readonly publish: (topic: string, payload: Buffer, retain: boolean) => Promise<void>,
    private readonly log: Logger,
    /** What the fleet asked of this device's retraining samples: upload until, capture window. */
    private readonly sampleRequests: (
      deviceId: string,
    ) => Promise<{ uploadUntil?: number | undefined; capture?: SampleCapture | undefined }> = async () => ({}),
    /** The current root-signed keyset; every desired state carries it (keys/key-manager.ts). */
    private readonly keyset: () => Promise<SignedEnvelope | undefined> = async () => undefined,
    /** The online signing key (throws before the first keyset is signed: nothing can be sent then). */
    private readonly signingKey: () => Promise<SigningKeyPair> = async () => {
      throw new RegistryError(409, 'there is no signing key: desired states cannot be signed');
    },
  ) {}

  /**
   * role serve (default): the version replaces what the devices serve; a shadow of this or an older
   * version is dropped (promotion: the device activates the shadow's already-downloaded artifact).
   * role shadow: the devices run it beside the version they serve and never answer with it.
   */
  async assign(
    model: string,
    version: number,
    deviceIds: readonly string[],
    opts: { role?: 'serve' | 'shadow' } = {},
  ): Promise<void> {
    const row = await this.store.models.get(model, version);
    const blocked = row && assignmentBlocker(row);
    if (blocked) throw new RegistryError(409, blocked);
    if (!row) {
      const latest = await this.store.models.latestVersion(model);
      throw new RegistryError(
        404,
        latest
          ? `${model} has no v${version} (latest is v${latest})`
          : `no model named "${model}" is registered; push it first (edgeloop models push)`,
      );
    }
    const known = await this.store.devices.getMany(deviceIds);
    const unknown = deviceIds.filter((d) => !known.has(d));
    if (unknown.length) {
      throw new RegistryError(
        404,
        `unknown device(s) ${unknown.join(', ')}: a device appears once its agent has connected (edgeloop devices lists them)`,
      );
    }
    await this.send(
      await this.signAll(deviceIds, async (deviceId) => {
        if (opts.role === 'shadow') {
          await this.store.shadows.set(deviceId, model, version);
        } else {
          await this.store.assignments.set(deviceId, model, version);
          const shadow = await this.store.shadows.get(deviceId, model);
          if (shadow && shadow.version <= version) await this.store.shadows.remove(deviceId, model);
        }
      }),
    );
    this.log.info({ model, version, devices: deviceIds, role: opts.role ?? 'serve' }, 'assigned model version');
  }

  /** Stops the shadow of `model` on these devices (they unload it); returns the devices that had one. */
  async removeShadow(model: string, deviceIds: readonly string[]): Promise<string[]> {
    const removed: string[] = [];
    for (const d of deviceIds) if (await this.store.shadows.remove(d, model)) removed.push(d);
    await this.republish(removed);
    return removed;
  }

  /**
   * What the device is meant to run, as last issued (counter) or about to be; undefined while
   * there is no keyset yet (an offline root has not signed the first one).
   */
  async desiredState(deviceId: string, counter?: number): Promise<DesiredState | undefined> {
    const content = await this.content(deviceId);
    return (
      content && { v: 2, deviceId, counter: counter ?? (await this.store.devices.desiredCounter(deviceId)), ...content }
    );
  }

  private async content(
    deviceId: string,
  ): Promise<(Pick<DesiredState, 'models' | 'keys' | 'issuedAt'> & Partial<DesiredState>) | undefined> {
    const keys = await this.keyset();
    if (!keys) return undefined;
    const now = Date.now();
    const { uploadUntil: until, capture } = await this.sampleRequests(deviceId);
    return {
      issuedAt: now,
      models: await this.desiredModels(deviceId),
      keys,
      ...(until && until > now ? { sampleUploadUntil: until } : {}),
      ...(capture && capture.until > now ? { sampleCapture: capture } : {}),
    };
  }

  private async desiredModels(deviceId: string): Promise<DesiredModel[]> {
    const models: DesiredModel[] = [];
    for (const a of await this.store.assignments.listForDevice(deviceId)) {
      const row = await this.store.models.get(a.model, a.version);
      // A revoked version never leaves the server again, even if an assignment lingered.
      if (row && row.status !== 'revoked')
        models.push({
          manifest: row.envelope,
          artifactUrl: `${this.publicUrl()}/api/v1/artifacts/${row.sha256}`,
          role: 'serve',
        });
    }
    for (const s of await this.store.shadows.listForDevice(deviceId)) {
      const row = await this.store.models.get(s.model, s.version);
      if (row && row.status !== 'revoked')
        models.push({
          manifest: row.envelope,
          artifactUrl: `${this.publicUrl()}/api/v1/artifacts/${row.sha256}`,
          role: 'shadow',
        });
    }
    return models;
  }

  /**
   * Signs `content` for the device with its next counter and the current keyset (unless the
   * content names one). Throws when it cannot be signed: a state the device would refuse is
   * never sent.
   */
  async issue(
    deviceId: string,
    content: Pick<DesiredState, 'models'> & Partial<Omit<DesiredState, 'v' | 'deviceId' | 'counter'>>,
    counter?: number,
  ): Promise<SignedEnvelope> {
    const key = await this.signingKey();
    const keys = content.keys ?? (await this.keyset());
    if (!keys)
      throw new RegistryError(
        409,
        'there is no keyset yet: the offline root must sign the first one ("edgeloop keys rotate --root-key FILE")',
      );
    const next = counter ?? (await this.store.devices.nextDesiredCounter(deviceId));
    try {
      return signDesiredState({ issuedAt: Date.now(), ...content, keys, v: 2, deviceId, counter: next }, key);
    } catch (err) {
      // Inside signAll's transaction: the assignment that made the state too large is undone.
      if (err instanceof DesiredStateTooLargeError) throw new RegistryError(409, err.message);
      throw err;
    }
  }

  async publishDesired(deviceId: string): Promise<void> {
    await this.send(await this.signAll([deviceId]));
  }

  /** Republishes the desired state of each device (re-signed manifests, a new keyset). */
  async republish(deviceIds: Iterable<string>): Promise<number> {
    const signed = await this.signAll([...new Set(deviceIds)]);
    await this.send(signed);
    return signed.length;
  }

  /**
   * Signed desired states for these devices, made in one transaction with `write` (the change
   * they announce): the counters are stored durably before anything is sent, and a thousand
   * devices cost one commit rather than a thousand.
   */
  private signAll(
    deviceIds: readonly string[],
    write?: (deviceId: string) => Promise<void>,
  ): Promise<Array<[string, Buffer]>> {
    return this.store.transaction(async () => {
      const signed: Array<[string, Buffer]> = [];
      for (const deviceId of deviceIds) {
        await write?.(deviceId);
        // The counter first: taking it locks the device's row until commit, so the content read
        // next sees every change committed before (on PostgreSQL a concurrent assignment would
        // otherwise be missed, and the stale state would go out with the newer counter).
        const counter = await this.store.devices.nextDesiredCounter(deviceId);
        const content = await this.content(deviceId);
        if (!content)
          throw new RegistryError(
            409,
            'there is no keyset yet: the offline root must sign the first one ("edgeloop keys rotate --root-key FILE")',
          );
        signed.push([deviceId, encodeMessage(await this.issue(deviceId, content, counter))]);
      }
      return signed;
    });
  }

  private async send(signed: ReadonlyArray<[string, Buffer]>): Promise<void> {
    for (const [deviceId, payload] of signed) await this.publish(deviceTopic(deviceId, 'desired'), payload, true);
  }

  /** Every device with an assignment: they all need a new keyset after a rotation. */
  async republishAll(): Promise<number> {
    return this.republish(await devicesWithAssignments(this.store));
  }

  /**
   * A revoked version leaves every device: its assignments (serve and shadow) are dropped and the
   * devices get a desired state without it (they stop running it and report "removed").
   */
  async removeVersion(model: string, version: number): Promise<string[]> {
    const devices = await removeVersionEverywhere(this.store, model, version);
    await this.republish(devices);
    if (devices.length) this.log.info({ model, version, devices }, 'version removed from devices');
    return devices;
  }
}
