/**
 * @module console/testing/render-page
 * Renders a console page for a test without a browser or a session: the page gets a REST client
 * that calls a real fleet server with a bearer token, and the HTML comes back as a string (the
 * whole page, or one live region). Browser tests (test/e2e/console-*.test.ts) cover the rest.
 */
import { createRestClient, type RestClient } from '@edgeloop/protocol/client';
import type { PageContext, PageHandler } from '../page-context.js';
import { roleAllows, type ConsoleRole } from '../session/session-constants.js';

export function bearerClient(httpUrl: string, token: string): RestClient {
  return createRestClient({ baseUrl: httpUrl, headers: { authorization: `Bearer ${token}` } });
}

export function testPageContext(opts: {
  api: RestClient;
  path: string;
  params?: Record<string, string>;
  role?: ConsoleRole;
}): PageContext {
  const role = opts.role ?? 'admin';
  return {
    api: opts.api,
    caller: { name: 'test', role, csrfToken: 'csrf-test', expiresAt: Date.now() + 3_600_000, sessionId: 'test' },
    url: new URL(opts.path, 'http://console.test'),
    params: opts.params ?? {},
    can: (needed) => roleAllows(role, needed),
  };
}

/** The page's content (without the layout) as HTML, or one live region's with `fragment`. */
export async function renderPage(handler: PageHandler, ctx: PageContext, fragment?: string): Promise<string> {
  const result = await handler(ctx);
  if (result instanceof Response) return `RESPONSE ${result.status} ${result.headers.get('location') ?? ''}`;
  if (fragment) {
    const render = result.fragments?.[fragment];
    if (!render) throw new Error(`no live region ${fragment}`);
    return String(await (<>{await render()}</>).toString());
  }
  return String(await (<>{result.body}</>).toString());
}
