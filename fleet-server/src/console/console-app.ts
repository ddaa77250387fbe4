/**
 * @module console/console-app
 * The fleet console: server-rendered pages (hono JSX) at `/`, a small bundled script per page,
 * live updates by server-sent events. Everything a page shows or does goes through the REST API
 * in-process with the browser's session, so the API's schemas, role checks and audit log hold for
 * the console exactly as for the CLI.
 *
 *   /login, /logout                 session (session/)
 *   /console/assets/*               bundled scripts and styles, onnxruntime-web files (assets/)
 *   /console/events                 server-sent events: which topics changed (live/)
 *   /, /devices, /models, /rollouts, /drift, /retraining, /try    pages (pages/<section>/)
 */
import { Hono, type MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { ChangeMarkRepository } from '../store/fleet-store.js';
import { assetRoutes } from './assets/asset-routes.js';
import { ChangeFeed } from './live/change-feed.js';
import { eventRoutes } from './live/event-routes.js';
import { securityHeaders } from './security-headers.js';
import { requireSession, type ConsoleEnv, type InProcessFetch } from './session/console-session.js';
import { loginRoutes } from './session/login-routes.js';
import { CSRF_FIELD, CSRF_HEADER } from './session/session-constants.js';
import { consolePages } from './pages/console-pages.js';

export interface ConsoleDeps {
  /** The fleet API, called in-process. */
  apiFetch: InProcessFetch;
  changes: ChangeMarkRepository;
  log: Logger;
  /** How often live updates look for changes; default 1 s. */
  liveIntervalMs?: number;
}

/** Every form post and script call of a page must carry the session's CSRF token. */
function requireCsrfOnWrites(): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const expected = c.get('caller').csrfToken;
    let sent = c.req.header(CSRF_HEADER);
    if (sent === undefined) {
      const type = c.req.header('content-type') ?? '';
      if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
        const value = (await c.req.parseBody())[CSRF_FIELD];
        if (typeof value === 'string') sent = value;
      }
    }
    if (sent !== expected) return c.text('missing or wrong CSRF token: reload the page and try again', 403);
    return next();
  };
}

export function createConsole(deps: ConsoleDeps): { app: Hono; feed: ChangeFeed } {
  const feed = new ChangeFeed(deps.changes, deps.log, deps.liveIntervalMs);
  const app = new Hono();
  app.use('*', securityHeaders());
  app.route('/', assetRoutes());
  app.route('/', loginRoutes(deps.apiFetch));
  const pages = new Hono<ConsoleEnv>();
  pages.use('*', requireSession(deps.apiFetch));
  pages.use('*', requireCsrfOnWrites());
  pages.route('/', eventRoutes(feed));
  consolePages(pages, deps.apiFetch);
  pages.notFound((c) => c.text(`no console page ${c.req.path}; start at /`, 404));
  app.route('/', pages);
  return { app, feed };
}
