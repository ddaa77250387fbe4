/**
 * @module monitoring/version-spec
 * What monitoring knows about one model version from its signed manifest: the bin edges its
 * rollups are counted on (the same BinSpec the fleet uses, so edge summaries merge with the
 * server's rollups), its training baseline if the manifest carries one, and its validation MAE.
 */
import { binSpecFor, binSpecId, type BinSpec, type Manifest, type TrainingSummary } from '@edgeloop/protocol';

export interface VersionSpec {
  model: string;
  version: number;
  spec: BinSpec;
  specId: string;
  /** Absent: the detectors that compare with training data stay off for this version. */
  baseline?: TrainingSummary;
  validationMae?: number;
}

/** Number of classes of an argmax model (its labels, else its output's last dimension). */
export function classCount(manifest: Manifest): number | undefined {
  const post = manifest.postprocessing;
  if (post.kind !== 'argmax') return undefined;
  if (post.labels?.length) return post.labels.length;
  const out = manifest.outputs.find((o) => o.name === post.output) ?? manifest.outputs[0]!;
  const last = out.shape[out.shape.length - 1];
  return typeof last === 'number' && last > 0 ? last : undefined;
}

export function versionSpecOf(manifest: Manifest): VersionSpec {
  const classes = classCount(manifest);
  const spec = binSpecFor(manifest.baseline, classes !== undefined ? { classes } : {});
  return {
    model: manifest.name,
    version: manifest.version,
    spec,
    specId: binSpecId(spec),
    ...(manifest.baseline ? { baseline: manifest.baseline } : {}),
    ...(manifest.validationMae !== undefined ? { validationMae: manifest.validationMae } : {}),
  };
}
