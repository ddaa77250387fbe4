/**
 * @module monitoring/version-spec
 * The BinSpec of a model version from what its manifest and training summary say: the fleet
 * server folds its rollups on it and an agent counts its edge summaries on it, so both must
 * derive it the same way (equal binSpecId, or the server refuses the summaries).
 */
import type { TrainingSummary } from '../baseline.js';
import type { Manifest } from '../manifest.js';
import { binSpecFor, type BinSpec } from './rollup.js';

/** Number of classes of an argmax model (its labels, else its output's last dimension); undefined otherwise. */
export function classCountOf(manifest: Pick<Manifest, 'postprocessing' | 'outputs'> | undefined): number | undefined {
  const post = manifest?.postprocessing;
  if (post?.kind !== 'argmax') return undefined;
  if (post.labels?.length) return post.labels.length;
  const out = manifest!.outputs?.find((o) => o.name === post.output) ?? manifest!.outputs?.[0];
  const last = out?.shape[out.shape.length - 1];
  return typeof last === 'number' && last > 0 ? last : undefined;
}

/** The version's spec: its training summary's edges, class indices for a classifier. */
export function binSpecOfVersion(
  manifest: Pick<Manifest, 'postprocessing' | 'outputs'> | undefined,
  trainingSummary: TrainingSummary | null | undefined,
): BinSpec {
  const classes = classCountOf(manifest);
  return binSpecFor(trainingSummary, classes !== undefined ? { classes } : {});
}
