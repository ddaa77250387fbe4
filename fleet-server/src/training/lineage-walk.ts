/**
 * @module training/lineage-walk
 * From a telemetry record (or a model version) back to where it came from: record → model
 * version → training run → dataset snapshot → source devices and their capture windows. Each
 * link follows ids the registry checked when the version was registered; a link that does not
 * exist (a version pushed by hand, a snapshot no longer kept) is null with a sentence in `gaps`.
 */
import type { TelemetryRow } from '@edgeloop/protocol';
import type { LineageWalk } from '@edgeloop/protocol/rest';
import { RegistryError } from '../registry/model-registry.js';
import type { FleetStore } from '../store/fleet-store.js';
import type { DatasetSource } from './dataset-source.js';

export async function walkFromRecord(store: FleetStore, datasets: DatasetSource, id: number): Promise<LineageWalk> {
  const record = await store.telemetry.get(id);
  if (!record)
    throw new RegistryError(404, `no telemetry record ${id}; edgeloop telemetry lists records with their ids`);
  return walkFromVersion(store, datasets, record.model, record.version, record);
}

export async function walkFromVersion(
  store: FleetStore,
  datasets: DatasetSource,
  name: string,
  version: number,
  record?: TelemetryRow,
): Promise<LineageWalk> {
  const row = await store.models.get(name, version);
  if (!row)
    throw new RegistryError(
      404,
      record
        ? `record ${record.id} was made by ${name} v${version}, which is not registered on this server`
        : `no model ${name} v${version}; edgeloop models list shows the versions`,
    );
  const gaps: string[] = [];
  // A re-release (rollback) is an earlier version's artifact under a new number: its origin is that version's.
  let origin = row;
  while (!origin.lineage.trainingRunId && !origin.lineage.datasetId && origin.lineage.parent !== undefined) {
    const parent = await store.models.get(name, origin.lineage.parent);
    if (!parent || parent.sha256 !== origin.sha256 || parent.version >= origin.version) break;
    origin = parent;
  }
  const lineage = origin.lineage;
  const run = lineage.trainingRunId ? await store.training.getRun(lineage.trainingRunId) : undefined;
  const named = `${name} v${origin.version}`;
  if (!lineage.trainingRunId) gaps.push(`${named} names no training run: it was registered without one`);
  else if (!run) gaps.push(`training run ${lineage.trainingRunId} is not on this server`);
  const datasetId = lineage.datasetId ?? run?.datasetId;
  const manifest = datasetId ? await datasets.get(datasetId) : undefined;
  if (!datasetId) gaps.push(`${named} names no dataset snapshot`);
  else if (!manifest) gaps.push(`dataset ${datasetId} is not on this server, so its source devices are unknown`);
  return {
    record: record
      ? {
          id: record.id,
          deviceId: record.deviceId,
          stream: record.stream,
          seq: record.seq,
          ts: record.ts,
          prediction: record.prediction,
          reference: record.reference,
          shadow: record.shadow,
        }
      : null,
    model: {
      name,
      version,
      sha256: row.sha256,
      createdAt: row.manifest.created,
      status: row.status,
      parent: row.lineage.parent ?? null,
      trigger: row.lineage.trigger ?? null,
      rereleaseOf: origin === row ? null : origin.version,
    },
    run: run
      ? {
          id: run.id,
          jobId: run.jobId,
          trainer: run.trainer,
          params: run.params,
          seed: run.seed,
          status: run.status,
          metrics: run.metrics,
          finishedAt: run.finishedAt,
        }
      : null,
    dataset: manifest
      ? {
          id: manifest.id,
          name: manifest.name ?? null,
          createdAt: manifest.createdAt,
          origin: manifest.origin.kind,
          counts: manifest.counts,
          label: { min: manifest.label.min, max: manifest.label.max, mean: manifest.label.mean },
        }
      : null,
    sources: manifest?.sources ?? [],
    gaps,
    loop: await loopPart(store, origin.lineage.loopRunId, gaps),
  };
}

/** The loop run that made the version: its trigger and incident, the gate's comparison, the sweep's runs. */
async function loopPart(store: FleetStore, runId: string | undefined, gaps: string[]): Promise<LineageWalk['loop']> {
  if (!runId) return null;
  const run = await store.loop.getRun(runId);
  if (!run) {
    gaps.push(`loop run ${runId} is not on this server`);
    return null;
  }
  const incident = run.trigger.incidentId ? await store.monitoring.getIncident(run.trigger.incidentId) : undefined;
  if (run.trigger.incidentId && !incident) gaps.push(`incident ${run.trigger.incidentId} is not on this server`);
  const runs = run.trainingJobId ? await store.training.runsOf(run.trainingJobId) : [];
  return {
    runId: run.id,
    state: run.state,
    trigger: run.trigger,
    incident: incident
      ? {
          id: incident.id,
          rule: incident.rule,
          state: incident.state,
          openedAt: incident.openedAt,
          resolvedAt: incident.resolvedAt,
          devices: incident.devices,
        }
      : null,
    gate: run.gate,
    runs: runs.map((r) => ({
      id: r.id,
      params: r.params,
      status: r.status,
      metrics: r.metrics as Record<string, unknown> | null,
      best: r.id === run.trainingRunId,
    })),
  };
}
