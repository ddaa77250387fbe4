/**
 * @module console/session/console-api
 * The typed REST client a page uses, bound to the request's session: the console reads and acts
 * through the public API contract only (the same schemas, role checks and audit entries as the
 * CLI), in-process so no socket or TLS is involved. State-changing calls carry the session's
 * CSRF token, as the browser's own calls do.
 */
import { createRestClient, type RestClient } from '@edgeloop/protocol/client';
import { INTERNAL_ORIGIN, type ConsoleCaller, type InProcessFetch } from './console-session.js';
import { CSRF_HEADER, SESSION_COOKIE } from './session-constants.js';

export function consoleApi(apiFetch: InProcessFetch, caller: ConsoleCaller): RestClient {
  return createRestClient({
    baseUrl: INTERNAL_ORIGIN,
    fetch: apiFetch,
    headers: { cookie: `${SESSION_COOKIE}=${caller.sessionId}`, [CSRF_HEADER]: caller.csrfToken },
  });
}
