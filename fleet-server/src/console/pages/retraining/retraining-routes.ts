/**
 * @module console/pages/retraining/retraining-routes
 * The retraining section's pages and actions, under /retraining.
 */
import type { Hono } from 'hono';
import { registerAction, registerPage } from '../../page-context.js';
import type { ConsoleEnv, InProcessFetch } from '../../session/console-session.js';
import { datasetListPage, datasetPage } from './dataset-pages.js';
import { lineageLookupPage, recordLineagePage, versionLineagePage } from './lineage-page.js';
import { loopRunPage } from './loop-run-page.js';
import { cancelLoopRun, triggerRetraining } from './retraining-actions.js';
import { retrainingPage } from './retraining-page.js';
import { trainingJobPage } from './training-job-page.js';

export function registerRetrainingPages(app: Hono<ConsoleEnv>, apiFetch: InProcessFetch): void {
  registerPage(app, '/retraining', apiFetch, retrainingPage);
  registerAction(app, '/retraining/trigger', apiFetch, triggerRetraining);
  registerPage(app, '/retraining/runs/:id', apiFetch, loopRunPage);
  registerAction(app, '/retraining/runs/:id/cancel', apiFetch, cancelLoopRun);
  registerPage(app, '/retraining/jobs/:id', apiFetch, trainingJobPage);
  registerPage(app, '/retraining/datasets', apiFetch, datasetListPage);
  registerPage(app, '/retraining/datasets/:id', apiFetch, datasetPage);
  registerPage(app, '/retraining/lineage', apiFetch, lineageLookupPage);
  registerPage(app, '/retraining/lineage/records/:id', apiFetch, recordLineagePage);
  registerPage(app, '/retraining/lineage/models/:name/:version', apiFetch, versionLineagePage);
}
