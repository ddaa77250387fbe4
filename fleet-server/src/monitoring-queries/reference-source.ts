/**
 * @module monitoring-queries/reference-source
 * Where a model version's reference distribution comes from: the port the queries compare live
 * windows with. As for the rule engine (monitoring/rule-engine.ts referenceOf), a live window an
 * operator chose for the version (`edgeloop rules reference`, for models trained elsewhere) comes
 * first, else the version's training summary, which the trainer writes as baseline.json and the
 * registry keeps, so the API shows the same comparison the rules judge.
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

/**
 * References from the store: the version's chosen live window (the serving role's rollups of its
 * scope over it), else the training summary's histograms; with the validation MAE either way.
 */
export function storeReferences(store: Pick<FleetStore, 'models' | 'monitoring' | 'rollups'>): ReferenceSource {
  return {
    async referenceFor(model, version) {
      const record = await store.models.get(model, version);
      if (!record) return null;
      const spec = binSpecOfVersion(record.manifest, record.trainingSummary);
      const validationMae = record.metrics[VALIDATION_MAE_METRIC] ?? null;
      const window = await store.monitoring.getReferenceWindow(model, version);
      if (window) {
        const rollup = await store.rollups.sum({
          model,
          version,
          role: 'serving',
          scopes: [window.scope],
          from: window.from,
          to: window.to,
        });
        // A window with no data compares with nothing, as in the rule engine.
        if (rollup.count > 0) return { ...rollup, validationMae };
      }
      if (record.trainingSummary) return referenceFromSummary(record.trainingSummary, spec, validationMae);
      // No baseline, but a validation MAE still makes error.mae_ratio meaningful; drift comparisons
      // against this empty reference give no value rather than a false verdict.
      if (validationMae === null) return null;
      return Object.assign(referenceFromSummary({ count: 0, features: {} }, spec), { validationMae });
    },
  };
}
