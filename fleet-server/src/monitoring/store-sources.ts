/**
 * @module monitoring/store-sources
 * The rule engine's ports over the real parts: the metric catalogue (protocol), the versions in
 * the registry with their baselines and validation MAE, and rollout arms from the rollout store.
 * (The store's `rollups` repository is a RollupReader as it is.)
 */
import {
  binSpecOfVersion,
  computeMetric,
  emptyRollup,
  needsReference,
  referenceFromSummary,
  type ReferenceDistribution,
} from '@edgeloop/protocol';
import type { FleetStore } from '../store/fleet-store.js';
import type { MetricPort, RolloutArmSource, VersionSource, WatchedVersion } from './ports.js';

/** error.mae_ratio compares with the validation MAE alone: it needs no reference distribution. */
const NEEDS_ONLY_VALIDATION = 'error.mae_ratio';

export const catalogueMetrics: MetricPort = {
  compute(name, live, spec, reference) {
    const ref: ReferenceDistribution | undefined =
      reference.rollup || reference.validationMae !== undefined
        ? {
            ...(reference.rollup ?? emptyRollup(spec.classes !== undefined)),
            validationMae: reference.validationMae ?? null,
          }
        : undefined;
    return computeMetric(name, live, spec, ref);
  },
  needsReference: (name) => name !== NEEDS_ONLY_VALIDATION && needsReference(name),
  referenceFromSummary: (summary, spec) => referenceFromSummary(summary, spec),
};

/** Versions not revoked, with the bin spec their rollups are counted on. */
export function registryVersions(store: FleetStore): VersionSource {
  return {
    async versions(): Promise<WatchedVersion[]> {
      const rows = await store.models.list();
      return rows
        .filter((r) => r.status !== 'revoked')
        .map((r) => ({
          model: r.name,
          version: r.version,
          spec: binSpecOfVersion(r.manifest, r.trainingSummary),
          trainingSummary: r.trainingSummary,
          validationMae: typeof r.metrics.validation_mae === 'number' ? r.metrics.validation_mae : null,
        }));
    },
  };
}

/**
 * The arms of the model's running or paused rollout: `<rollout>/candidate` (devices already moved
 * to the rollout's version) and `<rollout>/baseline` (devices not moved yet, on the baseline version).
 */
export function rolloutArms(store: FleetStore): RolloutArmSource {
  return {
    async arms(model, version) {
      const r = await store.rollouts.activeFor(model);
      if (!r || (r.version !== version && r.baselineVersion !== version)) return [];
      const devices = await store.rollouts.devices(r.id);
      const moved = devices.filter((d) => d.assignedAt !== null).map((d) => d.deviceId);
      const waiting = devices.filter((d) => d.assignedAt === null).map((d) => d.deviceId);
      return r.version === version
        ? [{ arm: `${r.id}/candidate`, devices: moved }]
        : [{ arm: `${r.id}/baseline`, devices: waiting }];
    },
  };
}
