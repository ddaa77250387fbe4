/**
 * @module deploy/deployments
 * Assigning model versions to devices. A device's desired state (every model assigned to it,
 * each with its signed manifest and artifact URL) is one retained message on its `desired`
 * topic: a device that was offline gets it the moment it subscribes.
 */
import type { Logger } from 'pino';
import { deviceTopic, encodeMessage, type DesiredState } from '@edgeloop/protocol';
import type { DeviceStore } from '../store/device-store.js';
import type { ModelStore } from '../store/model-store.js';
import { RegistryError } from '../registry/model-registry.js';

export class Deployments {
  constructor(
    private readonly devices: DeviceStore,
    private readonly models: ModelStore,
    /** Known only once the HTTP server listens (its port may be chosen by the OS). */
    private readonly publicUrl: () => string,
    private readonly publish: (topic: string, payload: Buffer, retain: boolean) => Promise<void>,
    private readonly log: Logger,
    /** When the operator asked this device to upload its retraining samples. */
    private readonly sampleUploadUntil: (deviceId: string) => number | undefined = () => undefined,
  ) {}

  async assign(model: string, version: number, deviceIds: readonly string[]): Promise<void> {
    if (!this.models.get(model, version)) {
      const latest = this.models.latestVersion(model);
      throw new RegistryError(404, latest ? `${model} has no v${version} (latest is v${latest})` : `no model named "${model}" is registered; push it first (edgeloop models push)`);
    }
    const unknown = deviceIds.filter((d) => !this.devices.exists(d));
    if (unknown.length) {
      throw new RegistryError(404, `unknown device(s) ${unknown.join(', ')}: a device appears once its agent has connected (edgeloop devices lists them)`);
    }
    for (const deviceId of deviceIds) {
      this.devices.assign(deviceId, model, version);
      await this.publishDesired(deviceId);
    }
    this.log.info({ model, version, devices: deviceIds }, 'assigned model version');
  }

  desiredState(deviceId: string): DesiredState {
    const models = this.devices.assignments(deviceId).flatMap((a) => {
      const row = this.models.get(a.model, a.version);
      return row ? [{ manifest: row.envelope, artifactUrl: `${this.publicUrl()}/api/v1/artifacts/${row.sha256}` }] : [];
    });
    const until = this.sampleUploadUntil(deviceId);
    return { v: 1, deviceId, issuedAt: Date.now(), models, ...(until && until > Date.now() ? { sampleUploadUntil: until } : {}) };
  }

  async publishDesired(deviceId: string): Promise<void> {
    await this.publish(deviceTopic(deviceId, 'desired'), encodeMessage(this.desiredState(deviceId)), true);
  }
}
