/**
 * @module rest/monitoring-routes
 * The monitoring routes of the REST route table (rest/routes.ts spreads them in): rules (stored
 * and default), alerts, incidents, and a version's reference window.
 */
import { z } from 'zod';
import { route, type RouteSpec } from './route-spec.js';
import {
  alertListQuerySchema,
  alertListResponseSchema,
  incidentListQuerySchema,
  incidentListResponseSchema,
  incidentResponseSchema,
  referenceWindowRequestSchema,
  referenceWindowResponseSchema,
  ruleDefinitionSchema,
  ruleEnableSchema,
  ruleListQuerySchema,
  ruleListResponseSchema,
  ruleResponseSchema,
} from './monitoring.js';
import { restIdSchema, versionTextSchema } from './shared.js';

const byName = z.object({ name: z.string().min(1).max(128) });

export const MONITORING_ROUTES = {
  listRules: route({
    method: 'GET',
    path: '/api/v1/rules',
    tag: 'monitoring',
    summary: 'Monitoring rules by name: stored ones and the default set (source default) no stored rule overrides',
    auth: 'admin',
    query: ruleListQuerySchema,
    responses: { 200: ruleListResponseSchema },
  }),
  putRule: route({
    method: 'POST',
    path: '/api/v1/rules',
    tag: 'monitoring',
    summary: 'Add or replace a rule (by name) with its actions',
    auth: 'admin',
    body: ruleDefinitionSchema,
    responses: { 200: ruleResponseSchema },
  }),
  getRule: route({
    method: 'GET',
    path: '/api/v1/rules/{name}',
    tag: 'monitoring',
    summary: 'One rule as evaluated (stored, else the default of that name)',
    auth: 'admin',
    params: byName,
    responses: { 200: ruleResponseSchema },
  }),
  deleteRule: route({
    method: 'DELETE',
    path: '/api/v1/rules/{name}',
    tag: 'monitoring',
    summary: 'Remove a stored rule (a default of the same name applies again)',
    auth: 'admin',
    params: byName,
    responses: { 200: z.object({ removed: z.string() }) },
  }),
  enableRule: route({
    method: 'PUT',
    path: '/api/v1/rules/{name}/enabled',
    tag: 'monitoring',
    summary: 'Enable or disable a rule (a default is overridden by a stored copy)',
    auth: 'admin',
    params: byName,
    body: ruleEnableSchema,
    responses: { 200: ruleResponseSchema },
  }),
  listAlerts: route({
    method: 'GET',
    path: '/api/v1/alerts',
    tag: 'monitoring',
    summary: 'Alerts with their history, newest first (by state, model, device, rule)',
    auth: 'admin',
    query: alertListQuerySchema,
    responses: { 200: alertListResponseSchema },
  }),
  listIncidents: route({
    method: 'GET',
    path: '/api/v1/incidents',
    tag: 'monitoring',
    summary: 'Incidents (alerts of one rule and version grouped, with the affected scopes), newest first',
    auth: 'admin',
    query: incidentListQuerySchema,
    responses: { 200: incidentListResponseSchema },
  }),
  getIncident: route({
    method: 'GET',
    path: '/api/v1/incidents/{id}',
    tag: 'monitoring',
    summary: 'One incident with its member alerts',
    auth: 'admin',
    params: z.object({ id: z.string().min(1).max(64) }),
    responses: { 200: incidentResponseSchema },
  }),
  putReferenceWindow: route({
    method: 'PUT',
    path: '/api/v1/models/{name}/{version}/reference',
    tag: 'monitoring',
    summary: "Compare the version's live data with this window of its own live data instead of its training baseline",
    auth: 'admin',
    params: z.object({ name: restIdSchema, version: versionTextSchema }),
    body: referenceWindowRequestSchema,
    responses: { 200: referenceWindowResponseSchema },
  }),
} as const satisfies Record<string, RouteSpec>;
