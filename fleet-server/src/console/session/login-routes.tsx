/**
 * @module console/session/login-routes
 * GET/POST /login and POST /logout. Logging in trades an admin token for a session: the console
 * hands the token to the API (POST /api/v1/sessions, in-process) and passes the API's HttpOnly,
 * SameSite=Strict cookie to the browser; the token itself is never stored in the browser.
 */
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { Layout } from '../layout/page-layout.js';
import { safeLocalPath } from '../page-context.js';
import { INTERNAL_ORIGIN, resolveCaller, type InProcessFetch } from './console-session.js';
import { CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE } from './session-constants.js';

function LoginPage(props: { next: string; error?: string }) {
  return (
    <Layout title="Log in" section="login">
      <section class="login" aria-labelledby="login-title">
        <h1 id="login-title">Log in to the fleet console</h1>
        {props.error ? (
          <p class="flash flash-error" role="alert">
            {props.error}
          </p>
        ) : null}
        <form method="post" action="/login">
          <input type="hidden" name="next" value={props.next} />
          <label class="field" for="token">
            Admin token
            <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
          </label>
          <button type="submit" class="primary">
            Log in
          </button>
        </form>
        <p class="muted">
          The token is exchanged for a session cookie and is not kept in the browser. The first admin token is in{' '}
          <code>admin.token</code> in the server's data directory; an admin creates more with{' '}
          <code>edgeloop admin-tokens create --name NAME --role viewer|operator|admin</code>.
        </p>
      </section>
    </Layout>
  );
}

export function loginRoutes(apiFetch: InProcessFetch): Hono {
  const app = new Hono();
  const render = (next: string, error?: string, status: 200 | 401 | 429 = 200) =>
    new Response('<!doctype html>' + (<LoginPage next={next} error={error} />).toString(), {
      status,
      headers: { 'content-type': 'text/html; charset=UTF-8' },
    });

  app.get('/login', (c) => render(safeLocalPath(c.req.query('next'))));

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const next = safeLocalPath(typeof form['next'] === 'string' ? form['next'] : undefined);
    const token = typeof form['token'] === 'string' ? form['token'].trim() : '';
    if (!token) return render(next, 'enter an admin token', 401);
    const res = await apiFetch(
      `${INTERNAL_ORIGIN}/api/v1/sessions`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      },
      c.env,
    );
    if (res.status !== 201) {
      const reason = ((await res.json().catch(() => ({}))) as { error?: string }).error ?? `HTTP ${res.status}`;
      return render(next, `not logged in: ${reason}`, res.status === 429 ? 429 : 401);
    }
    const headers = new Headers({ location: next });
    for (const cookie of res.headers.getSetCookie()) headers.append('set-cookie', cookie);
    return new Response(null, { status: 303, headers });
  });

  app.post('/logout', async (c) => {
    const sessionId = getCookie(c, SESSION_COOKIE);
    const caller = sessionId ? await resolveCaller(apiFetch, sessionId) : undefined;
    const headers = new Headers({ location: '/login' });
    if (caller) {
      const form = await c.req.parseBody();
      if (form[CSRF_FIELD] !== caller.csrfToken) return c.text('missing or wrong CSRF token: reload the page', 403);
      const res = await apiFetch(`${INTERNAL_ORIGIN}/api/v1/sessions/current`, {
        method: 'DELETE',
        headers: { cookie: `${SESSION_COOKIE}=${sessionId}`, [CSRF_HEADER]: caller.csrfToken },
      });
      for (const cookie of res.headers.getSetCookie()) headers.append('set-cookie', cookie);
    }
    return new Response(null, { status: 303, headers });
  });
  return app;
}
