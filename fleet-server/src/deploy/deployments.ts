/**
 * @module deploy/deployments
 * Assigning model versions to devices. A device's desired state (every model assigned to it,
 * each with its signed manifest and artifact URL) is one retained message on its `desired`
 * topic: a device that was offline gets it the moment it subscribes. Every state is signed by
 * the online signing key with the next counter of that device (protocol/src/desired-state.ts),
 * so a device applies only what this server issued, and nothing older than what it applied.
 */
import type { Logger } from 'pino';
import { DesiredStateTooLargeError, deviceTopic, encodeMessage, signDesiredState, type DesiredModel, type DesiredState, type SampleCapture, type SignedEnvelope, type SigningKeyPair } from '@edgeloop/protocol';
import type { DeviceStore } from '../store/device-store.js';
import type { ModelStore } from '../store/model-store.js';
import { RegistryError } from '../registry/model-registry.js';
import { assignmentBlocker } from '../registry/model-status.js';

export class Deployments {
  constructor(
    private readonly devices: DeviceStore,
    private readonly models: ModelStore,
    /** Known only once the HTTP server listens (its port may be chosen by the OS). */
    private readonly publicUrl: () => string,
    private readonly publish: (topic: string, payload: Buffer, retain: boolean) => Promise<void>,
    private readonly log: Logger,
    /** What the fleet asked of this device's retraining samples: upload until, capture window. */
    private readonly sampleRequests: (deviceId: string) => { uploadUntil?: number | undefined; capture?: SampleCapture | undefined } = () => ({}),
    /** The current root-signed keyset; every desired state carries it (keys/key-manager.ts). */
    private readonly keyset: () => SignedEnvelope | undefined = () => undefined,
    /** The online signing key (throws before the first keyset is signed: nothing can be sent then). */
    private readonly signingKey: () => SigningKeyPair = () => {
      throw new RegistryError(409, 'there is no signing key: desired states cannot be signed');
    },
  ) {}

  /**
   * role serve (default): the version replaces what the devices serve; a shadow of this or an older
   * version is dropped (promotion: the device activates the shadow's already-downloaded artifact).
   * role shadow: the devices run it beside the version they serve and never answer with it.
   */
  async assign(model: string, version: number, deviceIds: readonly string[], opts: { role?: 'serve' | 'shadow' } = {}): Promise<void> {
    const row = this.models.get(model, version);
    const blocked = row && assignmentBlocker(row);
    if (blocked) throw new RegistryError(409, blocked);
    if (!row) {
      const latest = this.models.latestVersion(model);
      throw new RegistryError(404, latest ? `${model} has no v${version} (latest is v${latest})` : `no model named "${model}" is registered; push it first (edgeloop models push)`);
    }
    const unknown = deviceIds.filter((d) => !this.devices.exists(d));
    if (unknown.length) {
      throw new RegistryError(404, `unknown device(s) ${unknown.join(', ')}: a device appears once its agent has connected (edgeloop devices lists them)`);
    }
    await this.send(this.signAll(deviceIds, (deviceId) => {
      if (opts.role === 'shadow') {
        this.devices.shadows.set(deviceId, model, version);
      } else {
        this.devices.assign(deviceId, model, version);
        const shadow = this.devices.shadows.get(deviceId, model);
        if (shadow && shadow.version <= version) this.devices.shadows.remove(deviceId, model);
      }
    }));
    this.log.info({ model, version, devices: deviceIds, role: opts.role ?? 'serve' }, 'assigned model version');
  }

  /** Stops the shadow of `model` on these devices (they unload it); returns the devices that had one. */
  async removeShadow(model: string, deviceIds: readonly string[]): Promise<string[]> {
    const removed = deviceIds.filter((d) => this.devices.shadows.remove(d, model));
    await this.republish(removed);
    return removed;
  }

  /**
   * What the device is meant to run, as last issued (counter) or about to be; undefined while
   * there is no keyset yet (an offline root has not signed the first one).
   */
  desiredState(deviceId: string, counter = this.devices.desiredCounter(deviceId)): DesiredState | undefined {
    const content = this.content(deviceId);
    return content && { v: 2, deviceId, counter, ...content };
  }

  private content(deviceId: string): (Pick<DesiredState, 'models' | 'keys' | 'issuedAt'> & Partial<DesiredState>) | undefined {
    const keys = this.keyset();
    if (!keys) return undefined;
    const now = Date.now();
    const { uploadUntil: until, capture } = this.sampleRequests(deviceId);
    return {
      issuedAt: now,
      models: this.desiredModels(deviceId),
      keys,
      ...(until && until > now ? { sampleUploadUntil: until } : {}),
      ...(capture && capture.until > now ? { sampleCapture: capture } : {}),
    };
  }

  private desiredModels(deviceId: string): DesiredModel[] {
    const models: DesiredModel[] = this.devices.assignments(deviceId).flatMap((a) => {
      const row = this.models.get(a.model, a.version);
      // A revoked version never leaves the server again, even if an assignment lingered.
      return row && row.status !== 'revoked' ? [{ manifest: row.envelope, artifactUrl: `${this.publicUrl()}/api/v1/artifacts/${row.sha256}`, role: 'serve' as const }] : [];
    });
    for (const s of this.devices.shadows.list(deviceId)) {
      const row = this.models.get(s.model, s.version);
      if (row && row.status !== 'revoked') models.push({ manifest: row.envelope, artifactUrl: `${this.publicUrl()}/api/v1/artifacts/${row.sha256}`, role: 'shadow' });
    }
    return models;
  }

  /**
   * Signs `content` for the device with its next counter and the current keyset (unless the
   * content names one). Throws when it cannot be signed: a state the device would refuse is
   * never sent.
   */
  issue(deviceId: string, content: Pick<DesiredState, 'models'> & Partial<Omit<DesiredState, 'v' | 'deviceId' | 'counter'>>): SignedEnvelope {
    const key = this.signingKey();
    const keys = content.keys ?? this.keyset();
    if (!keys) throw new RegistryError(409, 'there is no keyset yet: the offline root must sign the first one ("edgeloop keys rotate --root-key FILE")');
    const counter = this.devices.nextDesiredCounter(deviceId);
    try {
      return signDesiredState({ issuedAt: Date.now(), ...content, keys, v: 2, deviceId, counter }, key);
    } catch (err) {
      // Inside signAll's transaction: the assignment that made the state too large is undone.
      if (err instanceof DesiredStateTooLargeError) throw new RegistryError(409, err.message);
      throw err;
    }
  }

  async publishDesired(deviceId: string): Promise<void> {
    await this.send(this.signAll([deviceId]));
  }

  /** Republishes the desired state of each device (re-signed manifests, a new keyset). */
  async republish(deviceIds: Iterable<string>): Promise<number> {
    const signed = this.signAll([...new Set(deviceIds)]);
    await this.send(signed);
    return signed.length;
  }

  /**
   * Signed desired states for these devices, made in one transaction with `write` (the change
   * they announce): the counters are stored durably before anything is sent, and a thousand
   * devices cost one commit rather than a thousand.
   */
  private signAll(deviceIds: readonly string[], write?: (deviceId: string) => void): Array<[string, Buffer]> {
    return this.devices.transaction(() =>
      deviceIds.map((deviceId): [string, Buffer] => {
        write?.(deviceId);
        const content = this.content(deviceId);
        if (!content) throw new RegistryError(409, 'there is no keyset yet: the offline root must sign the first one ("edgeloop keys rotate --root-key FILE")');
        return [deviceId, encodeMessage(this.issue(deviceId, content))];
      }),
    );
  }

  private async send(signed: ReadonlyArray<[string, Buffer]>): Promise<void> {
    for (const [deviceId, payload] of signed) await this.publish(deviceTopic(deviceId, 'desired'), payload, true);
  }

  /** Every device with an assignment: they all need a new keyset after a rotation. */
  republishAll(): Promise<number> {
    return this.republish(this.models.devicesWithAssignments());
  }

  /**
   * A revoked version leaves every device: its assignments (serve and shadow) are dropped and the
   * devices get a desired state without it (they stop running it and report "removed").
   */
  async removeVersion(model: string, version: number): Promise<string[]> {
    const devices = this.models.removeAssignments(model, version);
    await this.republish(devices);
    if (devices.length) this.log.info({ model, version, devices }, 'version removed from devices');
    return devices;
  }
}
