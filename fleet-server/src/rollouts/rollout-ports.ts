/**
 * @module rollouts/rollout-ports
 * The engine's seams to parts other areas own, each behind one small function or interface:
 *
 * - target selection: the device repository's `select` (groups, tags; disabled devices left out);
 * - re-release for rollback: the registry's `rerelease(name, fromVersion, lineage)`;
 * - version status: a revoked candidate is refused, and a rollout whose candidate gets revoked
 *   is aborted (the registry removes it from devices itself);
 * - deployments: assign (serve or shadow), remove a shadow, republish a desired state;
 * - the actions' ports (RolloutActionPorts): the engine hands these to RolloutActions, which
 *   therefore never calls back into the engine.
 */
import type { Logger } from 'pino';
import type { RolloutTarget } from '@edgeloop/protocol';
import { RegistryError, type ModelRegistry, type ModelVersionRow } from '../registry/model-registry.js';
import type { DeviceRepository, ModelVersionRepository } from '../store/fleet-store.js';
import type { RolloutStore } from './rollout-store.js';

export interface DeploymentsPort {
  assign(
    model: string,
    version: number,
    deviceIds: readonly string[],
    opts?: { role?: 'serve' | 'shadow' },
  ): Promise<void>;
  removeShadow(model: string, deviceIds: readonly string[]): Promise<string[]>;
  publishDesired(deviceId: string): Promise<void>;
}

export interface AuditPort {
  record(actor: string, action: string, target: string | null, details?: Record<string, unknown>): Promise<void>;
}

/**
 * What the rollout actions need, and nothing of the engine: they change rollouts and devices
 * through these, and the engine calls them (never the other way round).
 */
export interface RolloutActionPorts {
  store: RolloutStore;
  models: ModelVersionRepository;
  deployments: DeploymentsPort;
  audit: AuditPort;
  log: Logger;
  /** Registers the artifact of `model` v`fromVersion` again under a new, higher version. */
  rerelease(model: string, fromVersion: number, rolloutId: string): Promise<ModelVersionRow>;
}

/** Device ids a target names, in a stable order; throws a 404 naming unknown or disabled devices. */
export async function selectTargets(devices: DeviceRepository, target: RolloutTarget): Promise<string[]> {
  const found = await devices.select('all' in target ? { all: true } : target);
  if ('devices' in target) {
    const missing = target.devices.filter((d) => !found.includes(d));
    if (missing.length) {
      throw new RegistryError(
        404,
        `unknown or disabled device(s) ${missing.join(', ')}: a device appears once it has enrolled and connected (edgeloop devices lists them)`,
      );
    }
  }
  return [...new Set(found)];
}

/** Registers the artifact of `name` v`fromVersion` again under a new, higher version. */
export function rereleaseVersion(
  registry: ModelRegistry,
  name: string,
  fromVersion: number,
  rolloutId: string,
): Promise<ModelVersionRow> {
  return registry.rerelease(name, fromVersion, {
    parent: fromVersion,
    trigger: 'rollback',
    notes: `automatic re-release by rollout ${rolloutId}`,
  });
}

export async function isRevoked(models: ModelVersionRepository, name: string, version: number): Promise<boolean> {
  return (await models.get(name, version))?.status === 'revoked';
}
