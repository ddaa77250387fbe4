/**
 * @module console/pages/models/models-routes
 * The Models section's pages and actions. The upload and compare routes come before the
 * `:name` catch so "upload" is never read as a model name.
 */
import type { Hono } from 'hono';
import { registerAction, registerPage } from '../../page-context.js';
import type { ConsoleEnv, InProcessFetch } from '../../session/console-session.js';
import { comparePage } from './compare-page.js';
import { modelPage } from './model-page.js';
import { modelRegistryPage } from './model-registry-page.js';
import { uploadPage } from './upload-page.js';
import { setVersionStatus } from './version-actions.js';
import { versionPage } from './version-page.js';

export function registerModelsPages(app: Hono<ConsoleEnv>, apiFetch: InProcessFetch): void {
  registerPage(app, '/models', apiFetch, modelRegistryPage);
  registerPage(app, '/models/upload', apiFetch, uploadPage);
  registerPage(app, '/models/:name/compare', apiFetch, comparePage);
  registerPage(app, '/models/:name/versions/:version', apiFetch, versionPage);
  registerAction(app, '/models/:name/versions/:version/status', apiFetch, setVersionStatus);
  registerPage(app, '/models/:name', apiFetch, modelPage);
}
