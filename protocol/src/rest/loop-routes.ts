/**
 * @module rest/loop-routes
 * The retraining loop's routes of the REST route table (rest/routes.ts spreads them in): a
 * policy per model (read, set, remove), the loop runs (listed, one in full), and an operator's
 * manual trigger and cancel.
 */
import { z } from 'zod';
import {
  loopCancelRequestSchema,
  loopPolicyListResponseSchema,
  loopPolicyPathSchema,
  loopPolicyResponseSchema,
  loopPolicySchema,
  loopRunListQuerySchema,
  loopRunListResponseSchema,
  loopRunPathSchema,
  loopRunResponseSchema,
  loopTriggerRequestSchema,
} from './loop.js';
import { route, type RouteSpec } from './route-spec.js';

export const LOOP_ROUTES = {
  listLoopPolicies: route({
    method: 'GET',
    path: '/api/v1/loop/policies',
    tag: 'loop',
    summary: 'Retraining loop policies, by model',
    auth: 'admin',
    responses: { 200: loopPolicyListResponseSchema },
  }),
  getLoopPolicy: route({
    method: 'GET',
    path: '/api/v1/loop/policies/{model}',
    tag: 'loop',
    summary: "A model's retraining loop policy, with every default applied",
    auth: 'admin',
    params: loopPolicyPathSchema,
    responses: { 200: loopPolicyResponseSchema },
  }),
  putLoopPolicy: route({
    method: 'PUT',
    path: '/api/v1/loop/policies/{model}',
    tag: 'loop',
    summary:
      "Set a model's retraining loop policy (what triggers a retraining, its dataset, training, gate, rollout and guards); left-out fields take their defaults",
    auth: 'admin',
    params: loopPolicyPathSchema,
    body: loopPolicySchema,
    responses: { 200: loopPolicyResponseSchema },
  }),
  deleteLoopPolicy: route({
    method: 'DELETE',
    path: '/api/v1/loop/policies/{model}',
    tag: 'loop',
    summary: "Remove a model's loop policy: nothing retrains it automatically any more (a running run goes on)",
    auth: 'admin',
    params: loopPolicyPathSchema,
    responses: { 200: z.object({ removed: z.string() }) },
  }),
  triggerLoopRun: route({
    method: 'POST',
    path: '/api/v1/loop/policies/{model}/trigger',
    tag: 'loop',
    summary:
      'Retrain now under the policy (force: also inside the cool-down or over the daily budget; never beside a running run)',
    auth: 'admin',
    params: loopPolicyPathSchema,
    body: loopTriggerRequestSchema,
    bodyOptional: true,
    responses: { 202: loopRunResponseSchema },
    errors: [409, 503],
  }),
  listLoopRuns: route({
    method: 'GET',
    path: '/api/v1/loop/runs',
    tag: 'loop',
    summary: 'Loop runs, newest first (by model and state; `before` pages)',
    auth: 'admin',
    query: loopRunListQuerySchema,
    responses: { 200: loopRunListResponseSchema },
  }),
  getLoopRun: route({
    method: 'GET',
    path: '/api/v1/loop/runs/{id}',
    tag: 'loop',
    summary: "One loop run: every step's times and outcome, the gate's comparison and verdict, the ids it made",
    auth: 'admin',
    params: loopRunPathSchema,
    responses: { 200: loopRunResponseSchema },
  }),
  cancelLoopRun: route({
    method: 'POST',
    path: '/api/v1/loop/runs/{id}/cancel',
    tag: 'loop',
    summary: 'Stop a running loop run where it is: it ends cancelled, with the reason given',
    auth: 'admin',
    params: loopRunPathSchema,
    body: loopCancelRequestSchema,
    bodyOptional: true,
    responses: { 200: loopRunResponseSchema },
    errors: [409, 503],
  }),
} as const satisfies Record<string, RouteSpec>;
