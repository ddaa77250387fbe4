/**
 * @module monitoring-queries/reference-source
 * Where a model version's reference distribution comes from: the port the queries (and rules)
 * compare live windows with. The default is the version's training summary, which the trainer
 * writes as baseline.json and the registry keeps; a source that takes a chosen window of live
 * data instead (for models trained elsewhere) implements the same port.
 */
import { binSpecOfVersion, referenceFromSummary, type ReferenceDistribution } from '@edgeloop/protocol';
import type { FleetStore } from '../store/fleet-store.js';

/** The trainer's validation MAE in a version's flat metrics (trainer-contract's flattenMetrics). */
export const VALIDATION_MAE_METRIC = 'validation_mae';

export interface ReferenceSource {
  /**
   * The version's reference, counted on the version's BinSpec (binSpecOfVersion) like its live
   * rollups, with its validation MAE where known; null when the version has nothing to compare with.
   */
  referenceFor(model: string, version: number): Promise<ReferenceDistribution | null>;
}

/** References from the registry: the training summary's histograms and the validation MAE. */
export function trainingSummaryReferences(models: FleetStore['models']): ReferenceSource {
  return {
    async referenceFor(model, version) {
      const record = await models.get(model, version);
      if (!record) return null;
      const spec = binSpecOfVersion(record.manifest, record.trainingSummary);
      const validationMae = record.metrics[VALIDATION_MAE_METRIC] ?? null;
      if (record.trainingSummary) return referenceFromSummary(record.trainingSummary, spec, validationMae);
      // No baseline, but a validation MAE still makes error.mae_ratio meaningful; drift comparisons
      // against this empty reference give no value rather than a false verdict.
      if (validationMae === null) return null;
      return Object.assign(referenceFromSummary({ count: 0, features: {} }, spec), { validationMae });
    },
  };
}
