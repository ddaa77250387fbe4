/**
 * @module console/pages/rollouts/rollouts-routes
 * The Rollouts section: the list, the create form with its preview, a rollout's page, and the
 * actions on them. `/rollouts/new` is registered before `/rollouts/:id` so it is never read as an id.
 */
import type { Hono } from 'hono';
import { registerAction, registerPage } from '../../page-context.js';
import type { ConsoleEnv, InProcessFetch } from '../../session/console-session.js';
import {
  abortRollout,
  createRollout,
  pauseRollout,
  previewRollout,
  promoteRollout,
  resumeRollout,
  rollbackRollout,
} from './rollout-actions.js';
import { rolloutListPage } from './rollout-list-page.js';
import { rolloutNewPage } from './rollout-new-page.js';
import { rolloutPage } from './rollout-page.js';

export function registerRolloutsPages(app: Hono<ConsoleEnv>, apiFetch: InProcessFetch): void {
  registerPage(app, '/rollouts', apiFetch, rolloutListPage);
  registerPage(app, '/rollouts/new', apiFetch, rolloutNewPage);
  registerAction(app, '/rollouts/new/preview', apiFetch, previewRollout);
  registerAction(app, '/rollouts/new/create', apiFetch, createRollout);
  registerPage(app, '/rollouts/:id', apiFetch, rolloutPage);
  registerAction(app, '/rollouts/:id/pause', apiFetch, pauseRollout);
  registerAction(app, '/rollouts/:id/resume', apiFetch, resumeRollout);
  registerAction(app, '/rollouts/:id/abort', apiFetch, abortRollout);
  registerAction(app, '/rollouts/:id/rollback', apiFetch, rollbackRollout);
  registerAction(app, '/rollouts/:id/promote', apiFetch, promoteRollout);
}
