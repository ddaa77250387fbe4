/**
 * @module rollouts/rollout-ports
 * The engine's seams to parts other areas own, each behind one small function or interface:
 *
 * - target selection: the device store's `selectDevices` (groups, tags; disabled devices left out);
 * - re-release for rollback: the registry's `rerelease(name, fromVersion, lineage)`;
 * - version status: a revoked candidate is refused, and a rollout whose candidate gets revoked
 *   is aborted (the registry removes it from devices itself);
 * - deployments: assign (serve or shadow), remove a shadow, republish a desired state.
 */
import type { RolloutTarget } from '@edgeloop/protocol';
import { RegistryError, type ModelRegistry } from '../registry/model-registry.js';
import type { DeviceStore } from '../store/device-store.js';
import type { ModelStore, ModelVersionRow } from '../store/model-store.js';
import type { AssignmentFact } from './device-state.js';

export interface DeploymentsPort {
  assign(model: string, version: number, deviceIds: readonly string[], opts?: { role?: 'serve' | 'shadow' }): Promise<void>;
  removeShadow(model: string, deviceIds: readonly string[]): Promise<string[]>;
  publishDesired(deviceId: string): Promise<void>;
}

export interface AuditPort {
  record(actor: string, action: string, target: string | null, details?: Record<string, unknown>): void;
}

/** Device ids a target names, in a stable order; throws a 404 naming unknown or disabled devices. */
export function selectTargets(devices: DeviceStore, target: RolloutTarget): string[] {
  const found = devices.selectDevices('all' in target ? { all: true } : target);
  if ('devices' in target) {
    const missing = target.devices.filter((d) => !found.includes(d));
    if (missing.length) {
      throw new RegistryError(404, `unknown or disabled device(s) ${missing.join(', ')}: a device appears once it has enrolled and connected (edgeloop devices lists them)`);
    }
  }
  return [...new Set(found)];
}

/** Registers the artifact of `name` v`fromVersion` again under a new, higher version. */
export function rereleaseVersion(registry: ModelRegistry, name: string, fromVersion: number, rolloutId: string): ModelVersionRow {
  return registry.rerelease(name, fromVersion, { parent: fromVersion, trigger: 'rollback', notes: `automatic re-release by rollout ${rolloutId}` });
}

export function isRevoked(models: ModelStore, name: string, version: number): boolean {
  return models.get(name, version)?.status === 'revoked';
}

/** Each device's shadow assignment of `model` (state as its agent reported it). */
export function shadowAssignments(devices: DeviceStore, model: string, deviceIds: readonly string[]): Map<string, AssignmentFact> {
  const out = new Map<string, AssignmentFact>();
  for (const id of deviceIds) {
    const a = devices.shadows.get(id, model);
    if (a) out.set(id, { version: a.version, state: a.state, code: a.code, reason: a.reason });
  }
  return out;
}
