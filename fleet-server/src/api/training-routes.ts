/**
 * @module api/training-routes
 * POST /api/v1/training/jobs (dataset, trainer name, sweep, timeoutMs?, register?),
 * GET /api/v1/training/jobs, GET /api/v1/training/jobs/{id} (the job with each run's progress),
 * POST /api/v1/training/jobs/{id}/cancel, GET /api/v1/training/runs[?job=&dataset=&status=&limit=],
 * GET /api/v1/training/runs/{id} (with its log), POST /api/v1/training/runs/{id}/register, and
 * the lineage walk: GET /api/v1/lineage/records/{id}, GET /api/v1/lineage/models/{name}/{version}.
 */
import { Hono } from 'hono';
import { describeZodError, parseModelVersion } from '@edgeloop/protocol';
import {
  registerRunRequestSchema,
  trainingJobRequestSchema,
  trainingRunListQuerySchema,
} from '@edgeloop/protocol/rest';
import { RegistryError } from '../registry/model-registry.js';
import type { FleetStore } from '../store/fleet-store.js';
import type { DatasetSource } from '../training/dataset-source.js';
import { walkFromRecord, walkFromVersion } from '../training/lineage-walk.js';
import type { TrainingService } from '../training/training-service.js';
import { jobView, runView } from '../training/training-view.js';
import { actorOf, type ApiEnv } from './api-env.js';
import { readJsonObject } from './json-body.js';
import { modelView } from './model-routes.js';

const JOB_EXAMPLE =
  '{"dataset": "ds-…", "trainer": "builtin", "sweep": {"seed": 1, "runs": [{"learningRate": 0.01}]}, "register": {"model": "distance"}}';

export function trainingRoutes(deps: {
  training: TrainingService;
  /** Snapshots the lineage walk reads (the dataset service, or folders in tests). */
  datasetSource: DatasetSource;
  store: FleetStore;
}): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { training } = deps;
  const repo = deps.store.training;

  const jobDetail = async (id: string) => {
    const job = await repo.getJob(id);
    if (!job) throw new RegistryError(404, `no training job ${id}; edgeloop runs list shows the jobs' runs`);
    const runs = await repo.runsOf(id);
    return { job: jobView(job, runs), runs: runs.map(runView) };
  };

  app.post('/training/jobs', async (c) => {
    const parsed = trainingJobRequestSchema.safeParse(await readJsonObject(c, { example: JOB_EXAMPLE }));
    if (!parsed.success)
      return c.json({ error: `invalid training job: ${describeZodError(parsed.error)}; send ${JOB_EXAMPLE}` }, 400);
    const job = await training.start(parsed.data, actorOf(c));
    return c.json({ job: jobView(job, await repo.runsOf(job.id)) }, 201);
  });

  app.get('/training/jobs', async (c) => {
    const jobs = await repo.listJobs({ limit: 100 });
    return c.json({ jobs: await Promise.all(jobs.map(async (j) => jobView(j, await repo.runsOf(j.id)))) });
  });

  app.get('/training/jobs/:id', async (c) => c.json(await jobDetail(c.req.param('id'))));

  app.post('/training/jobs/:id/cancel', async (c) => {
    const job = await training.cancel(c.req.param('id'), actorOf(c));
    return c.json({ job: jobView(job, await repo.runsOf(job.id)) });
  });

  app.get('/training/runs', async (c) => {
    const q = trainingRunListQuerySchema.safeParse(c.req.query());
    if (!q.success) return c.json({ error: describeZodError(q.error) }, 400);
    return c.json({ runs: (await repo.listRuns(q.data)).map(runView) });
  });

  app.get('/training/runs/:id', async (c) => {
    const run = await repo.getRun(c.req.param('id'));
    if (!run) throw new RegistryError(404, `no training run ${c.req.param('id')}; edgeloop runs list shows them`);
    return c.json({ run: runView(run), log: run.log });
  });

  app.post('/training/runs/:id/register', async (c) => {
    const parsed = registerRunRequestSchema.safeParse(
      await readJsonObject(c, { example: '{"model": "distance", "parent": 1, "trigger": "manual"}' }),
    );
    if (!parsed.success)
      return c.json(
        { error: `${describeZodError(parsed.error)}; send {"model": "distance", "parent"?: 1, "trigger"?: "manual"}` },
        400,
      );
    const row = await training.register(c.req.param('id'), parsed.data, actorOf(c));
    return c.json({ model: modelView(row) }, 201);
  });

  app.get('/lineage/records/:id', async (c) => {
    const id = c.req.param('id');
    if (!/^[1-9][0-9]{0,15}$/.test(id))
      throw new RegistryError(400, `record id must be a positive whole number, got "${id}"`);
    return c.json(await walkFromRecord(deps.store, deps.datasetSource, Number(id)));
  });

  app.get('/lineage/models/:name/:version', async (c) => {
    const version = parseModelVersion(c.req.param('version'));
    if (!version.ok) throw new RegistryError(400, version.reason);
    return c.json(await walkFromVersion(deps.store, deps.datasetSource, c.req.param('name'), version.value));
  });

  return app;
}
