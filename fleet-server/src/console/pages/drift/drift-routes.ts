/**
 * @module console/pages/drift/drift-routes
 * The drift and error section: the drift page, incidents, and the monitoring rules with their
 * actions.
 */
import type { Hono } from 'hono';
import { registerAction, registerPage } from '../../page-context.js';
import type { ConsoleEnv, InProcessFetch } from '../../session/console-session.js';
import { driftPage } from './drift-page.js';
import { incidentListPage } from './incident-list-page.js';
import { incidentPage } from './incident-page.js';
import { deleteRule, disableRule, enableRule, saveRule } from './rule-actions.js';
import { editRulePage, newRulePage, ruleListPage } from './rule-pages.js';

export function registerDriftPages(app: Hono<ConsoleEnv>, apiFetch: InProcessFetch): void {
  registerPage(app, '/drift', apiFetch, driftPage);
  registerPage(app, '/drift/incidents', apiFetch, incidentListPage);
  registerPage(app, '/drift/incidents/:id', apiFetch, incidentPage);
  registerPage(app, '/drift/rules', apiFetch, ruleListPage);
  registerPage(app, '/drift/rules/new', apiFetch, newRulePage);
  registerPage(app, '/drift/rules/:name/edit', apiFetch, editRulePage);
  registerAction(app, '/drift/rules/save', apiFetch, saveRule);
  registerAction(app, '/drift/rules/:name/enable', apiFetch, enableRule);
  registerAction(app, '/drift/rules/:name/disable', apiFetch, disableRule);
  registerAction(app, '/drift/rules/:name/delete', apiFetch, deleteRule);
}
