/**
 * @module rest/training-routes
 * The training and lineage routes of the REST route table (rest/routes.ts spreads them in):
 * jobs, runs, registering a run, and the lineage walk.
 */
import { z } from 'zod';
import { route, type RouteSpec } from './route-spec.js';
import { integerText, restIdSchema, versionTextSchema } from './shared.js';
import {
  lineageWalkSchema,
  registerRunRequestSchema,
  registerRunResponseSchema,
  trainingJobDetailSchema,
  trainingJobListResponseSchema,
  trainingJobRequestSchema,
  trainingJobResponseSchema,
  trainingRunDetailSchema,
  trainingRunListQuerySchema,
  trainingRunListResponseSchema,
} from './training.js';

const byId = z.object({ id: z.string().min(1).max(256) });
const byVersion = z.object({ name: restIdSchema, version: versionTextSchema });

export const TRAINING_ROUTES = {
  createTrainingJob: route({
    method: 'POST',
    path: '/api/v1/training/jobs',
    tag: 'training',
    summary:
      'Train a dataset snapshot with a server-side trainer over a sweep of parameter sets (checked against the trainer before anything runs)',
    auth: 'admin',
    body: trainingJobRequestSchema,
    responses: { 201: trainingJobResponseSchema },
    errors: [404, 409],
  }),
  listTrainingJobs: route({
    method: 'GET',
    path: '/api/v1/training/jobs',
    tag: 'training',
    summary: 'Training jobs, newest first',
    auth: 'admin',
    responses: { 200: trainingJobListResponseSchema },
  }),
  getTrainingJob: route({
    method: 'GET',
    path: '/api/v1/training/jobs/{id}',
    tag: 'training',
    summary: 'A training job with every run: status, progress (epoch, loss), metrics, best run',
    auth: 'admin',
    params: byId,
    responses: { 200: trainingJobDetailSchema },
  }),
  cancelTrainingJob: route({
    method: 'POST',
    path: '/api/v1/training/jobs/{id}/cancel',
    tag: 'training',
    summary: 'Cancel a training job: the running trainers are stopped, queued runs never start',
    auth: 'admin',
    params: byId,
    responses: { 200: trainingJobResponseSchema },
    errors: [409],
  }),
  listTrainingRuns: route({
    method: 'GET',
    path: '/api/v1/training/runs',
    tag: 'training',
    summary: 'Training runs, newest job first (by job, dataset or status)',
    auth: 'admin',
    query: trainingRunListQuerySchema,
    responses: { 200: trainingRunListResponseSchema },
  }),
  getTrainingRun: route({
    method: 'GET',
    path: '/api/v1/training/runs/{id}',
    tag: 'training',
    summary: "One training run with its params, seed, metrics and the trainer's log",
    auth: 'admin',
    params: byId,
    responses: { 200: trainingRunDetailSchema },
  }),
  registerTrainingRun: route({
    method: 'POST',
    path: '/api/v1/training/runs/{id}/register',
    tag: 'training',
    summary: "Register a succeeded run's model as the next version (signed), with its dataset and run as lineage",
    auth: 'admin',
    params: byId,
    body: registerRunRequestSchema,
    responses: { 201: registerRunResponseSchema },
    errors: [409],
  }),

  // lineage
  lineageOfRecord: route({
    method: 'GET',
    path: '/api/v1/lineage/records/{id}',
    tag: 'lineage',
    summary: 'Telemetry record → model version → training run → dataset snapshot → source devices and time windows',
    auth: 'admin',
    params: z.object({ id: integerText(1) }),
    responses: { 200: lineageWalkSchema },
  }),
  lineageOfVersion: route({
    method: 'GET',
    path: '/api/v1/lineage/models/{name}/{version}',
    tag: 'lineage',
    summary: 'Model version → training run → dataset snapshot → source devices and time windows',
    auth: 'admin',
    params: byVersion,
    responses: { 200: lineageWalkSchema },
  }),
} as const satisfies Record<string, RouteSpec>;
