/**
 * @module console/pages/console-pages
 * Every console page and action, by section. A section's pages live in pages/<section>/.
 */
import type { Hono } from 'hono';
import { registerAction, registerPage } from '../page-context.js';
import type { ConsoleEnv, InProcessFetch } from '../session/console-session.js';
import { overviewPage } from './overview/overview-page.js';
import { deviceListPage } from './devices/device-list-page.js';
import { devicePage } from './devices/device-page.js';
import { tryPage } from './try/try-page.js';
import { registerDriftPages } from './drift/drift-routes.js';
import { registerModelsPages } from './models/models-routes.js';
import { deployToDevice, disableDevice, enableDevice, revokeDevice } from './devices/device-actions.js';
import { registerRetrainingPages } from './retraining/retraining-routes.js';
import { registerRolloutsPages } from './rollouts/rollouts-routes.js';

export function consolePages(app: Hono<ConsoleEnv>, apiFetch: InProcessFetch): void {
  registerPage(app, '/', apiFetch, overviewPage);

  registerPage(app, '/devices', apiFetch, deviceListPage);
  registerPage(app, '/devices/:id', apiFetch, devicePage);
  registerAction(app, '/devices/:id/disable', apiFetch, disableDevice);
  registerAction(app, '/devices/:id/enable', apiFetch, enableDevice);
  registerAction(app, '/devices/:id/revoke', apiFetch, revokeDevice);
  registerAction(app, '/devices/:id/deploy', apiFetch, deployToDevice);

  registerPage(app, '/try', apiFetch, tryPage);
  registerDriftPages(app, apiFetch);
  registerModelsPages(app, apiFetch);
  registerRetrainingPages(app, apiFetch);
  registerRolloutsPages(app, apiFetch);
}
