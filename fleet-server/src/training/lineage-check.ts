/**
 * @module training/lineage-check
 * What makes lineage first-class: a version's `datasetId` and `trainingRunId` must name a dataset
 * snapshot and a training run this server knows, the run must have succeeded, and a run and a
 * dataset named together must agree. The registry asks this on every registration, through the
 * REST upload as well as from a run, so the lineage walk never meets a dangling id.
 */
import type { ModelLineage } from '@edgeloop/protocol';
import type { TrainingRepository } from '../store/fleet-store.js';
import type { DatasetSource } from './dataset-source.js';

export function lineageChecker(
  training: TrainingRepository,
  datasets: DatasetSource,
): (lineage: ModelLineage) => Promise<string | undefined> {
  return async (lineage) => {
    if (lineage.trainingRunId !== undefined) {
      const run = await training.getRun(lineage.trainingRunId);
      if (!run)
        return `lineage.trainingRunId "${lineage.trainingRunId}" is not a training run of this server; name one from edgeloop runs list, or leave it out`;
      if (run.status !== 'succeeded')
        return `lineage.trainingRunId "${run.id}" is ${run.status}; only a succeeded run can be a version's origin`;
      if (lineage.datasetId !== undefined && lineage.datasetId !== run.datasetId)
        return `lineage.datasetId "${lineage.datasetId}" does not match run ${run.id}, which trained on ${run.datasetId}; give that dataset or leave datasetId out`;
    }
    if (lineage.datasetId !== undefined && !(await datasets.get(lineage.datasetId)))
      return `lineage.datasetId "${lineage.datasetId}" is not a dataset snapshot of this server; name one from edgeloop datasets list (or import the data first), or leave it out`;
    return undefined;
  };
}
