/**
 * @module monitoring/catalogue-metric
 * Device rules' metrics from the shared metric catalogue (protocol), against the version's
 * training baseline and validation MAE from its signed manifest. A comparison the version has no
 * reference for (no baseline) has no value: the rule gives no verdict rather than failing.
 */
import {
  computeMetric,
  emptyRollup,
  needsReference,
  referenceFromSummary,
  type ReferenceDistribution,
  type Rollup,
} from '@edgeloop/protocol';
import type { MetricReading } from './device-rules.js';
import type { VersionSpec } from './version-spec.js';

const references = new WeakMap<VersionSpec, ReferenceDistribution | null>();

function referenceOf(v: VersionSpec): ReferenceDistribution | undefined {
  let ref = references.get(v);
  if (ref === undefined) {
    if (v.baseline) ref = referenceFromSummary(v.baseline, v.spec, v.validationMae ?? null);
    else if (v.validationMae !== undefined)
      ref = { ...emptyRollup(v.spec.classes !== undefined), validationMae: v.validationMae };
    else ref = null;
    references.set(v, ref);
  }
  return ref ?? undefined;
}

/** Throws only for a metric name the catalogue does not know (the rule is then reported, once). */
export function catalogueMetric(name: string, live: Rollup, v: VersionSpec): MetricReading {
  const reference = referenceOf(v);
  if (!reference && needsReference(name)) return { value: null, samples: 0 };
  return computeMetric(name, live, v.spec, reference);
}
