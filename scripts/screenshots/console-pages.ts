/**
 * @module screenshots/console-pages
 * Every console page worth a picture, with the ids of a fleet's real objects filled in (the
 * first device, rollout, incident, loop run, training job and dataset the API lists). A page whose
 * object does not exist yet is left out and said so.
 */
import type { RestClient } from '@edgeloop/protocol/client';

export interface ConsoleShot {
  /** File name without .png. */
  name: string;
  path: string;
  /** Wait for this selector before the picture (charts drawn, a result shown). */
  waitFor?: string;
}

export async function consoleShots(
  api: RestClient,
  model: string,
): Promise<{ shots: ConsoleShot[]; missing: string[] }> {
  const [devices, models, rollouts, incidents, loopRuns, jobs, datasets] = await Promise.all([
    api.listDevices(),
    api.listModels(),
    api.listRollouts({ query: { limit: 20 } }),
    api.listIncidents({ query: { limit: 20 } }),
    api.listLoopRuns({ query: { limit: 20 } }),
    api.listTrainingJobs(),
    api.listDatasets(),
  ]);
  const versions = models.models
    .filter((m) => m.name === model)
    .map((m) => m.version)
    .sort((a, b) => a - b);
  const latest = versions.at(-1);
  const device = devices.devices[0]?.id;
  const run = loopRuns.runs.find((r) => r.state === 'succeeded') ?? loopRuns.runs[0];
  const job = jobs.jobs[0];
  const dataset = datasets.datasets[0];
  const incident = incidents.incidents[0];
  const rollout = rollouts.rollouts[0];
  const enc = encodeURIComponent;
  const candidates: Array<ConsoleShot | string> = [
    { name: 'overview', path: '/' },
    { name: 'devices', path: '/devices' },
    device
      ? { name: 'device', path: `/devices/${enc(device)}`, waitFor: '[data-chart][data-drawn]' }
      : 'device (no device)',
    { name: 'models', path: '/models' },
    latest !== undefined
      ? { name: 'model-version', path: `/models/${enc(model)}/versions/${latest}` }
      : 'model-version',
    { name: 'model-lineage', path: `/models/${enc(model)}` },
    versions.length >= 2
      ? { name: 'model-compare', path: `/models/${enc(model)}/compare?a=${versions.at(-2)}&b=${latest}` }
      : 'model-compare (one version only)',
    { name: 'model-upload', path: '/models/upload' },
    { name: 'rollouts', path: '/rollouts' },
    rollout ? { name: 'rollout', path: `/rollouts/${enc(rollout.id)}` } : 'rollout (none yet)',
    { name: 'rollout-new', path: '/rollouts/new' },
    { name: 'drift', path: `/drift?model=${enc(model)}`, waitFor: '[data-testid="metric-chart"][data-drawn]' },
    { name: 'incidents', path: '/drift/incidents' },
    incident
      ? { name: 'incident', path: `/drift/incidents/${enc(incident.id)}`, waitFor: '[data-chart][data-drawn]' }
      : 'incident (none yet)',
    { name: 'rules', path: '/drift/rules' },
    { name: 'retraining', path: '/retraining' },
    run ? { name: 'loop-run', path: `/retraining/runs/${enc(run.id)}` } : 'loop-run (none yet)',
    job ? { name: 'training-job', path: `/retraining/jobs/${enc(job.id)}` } : 'training-job (none yet)',
    { name: 'datasets', path: '/retraining/datasets' },
    dataset ? { name: 'dataset', path: `/retraining/datasets/${enc(dataset.id)}` } : 'dataset (none yet)',
    { name: 'try-model', path: '/try' },
  ];
  return {
    shots: candidates.filter((c): c is ConsoleShot => typeof c !== 'string'),
    missing: candidates.filter((c): c is string => typeof c === 'string'),
  };
}
