/**
 * @module console/page-context
 * What a page handler gets and how it is registered. A page is a function of its context that
 * returns the page's content (the layout wraps it); a page with live regions also answers
 * `?fragment=<region id>` with that region alone (the browser's live updates ask for it).
 * Actions are POST handlers that call the API and redirect back with a flash message
 * (post/redirect/get), so reloading never repeats them and they work without JavaScript.
 */
import type { Context, Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { RestError, type RestClient } from '@edgeloop/protocol/client';
import { Layout, type Section } from './layout/page-layout.js';
import { consoleApi } from './session/console-api.js';
import type { ConsoleCaller, ConsoleEnv, InProcessFetch } from './session/console-session.js';
import { roleAllows, type ConsoleRole } from './session/session-constants.js';

export interface PageContext {
  api: RestClient;
  caller: ConsoleCaller;
  url: URL;
  /** Path parameters of the route. */
  params: Record<string, string>;
  /** Whether the caller's role may do what needs `role` (the API decides in the end). */
  can(role: ConsoleRole): boolean;
}

export interface PageResult {
  title: string;
  section: Section;
  body: Child;
  /** Bundled script entries besides `console` (e.g. 'charts'). */
  scripts?: readonly string[];
  /** Live regions by id, for `?fragment=<id>`. */
  fragments?: Record<string, () => Child | Promise<Child>>;
}

export type PageHandler = (ctx: PageContext) => Promise<PageResult | Response>;
export type ActionHandler = (ctx: PageContext, form: Record<string, string>) => Promise<ActionResult>;
export interface ActionResult {
  /** Where to go afterwards (same origin path). */
  redirect: string;
  flash?: { kind: 'ok' | 'error'; text: string };
}

const FLASH_COOKIE = 'edgeloop_flash';

export function pageContext(c: Context<ConsoleEnv>, apiFetch: InProcessFetch): PageContext {
  const caller = c.get('caller');
  return {
    api: consoleApi(apiFetch, caller),
    caller,
    url: new URL(c.req.url),
    params: c.req.param() as Record<string, string>,
    can: (role) => roleAllows(caller.role, role),
  };
}

function takeFlash(c: Context): { kind: 'ok' | 'error'; text: string } | undefined {
  const raw = getCookie(c, FLASH_COOKIE);
  if (!raw) return undefined;
  deleteCookie(c, FLASH_COOKIE, { path: '/' });
  try {
    const parsed = JSON.parse(raw) as { kind: 'ok' | 'error'; text: string };
    return { kind: parsed.kind === 'error' ? 'error' : 'ok', text: String(parsed.text).slice(0, 500) };
  } catch {
    return undefined;
  }
}

/** The API's refusal as a sentence for the operator (RestError carries the server's reason). */
export function describeFailure(err: unknown): string {
  if (err instanceof RestError) return err.status === 403 ? `not allowed: ${err.message}` : err.message;
  return err instanceof Error ? err.message : String(err);
}

export function registerPage(app: Hono<ConsoleEnv>, path: string, apiFetch: InProcessFetch, handler: PageHandler) {
  app.get(path, async (c) => {
    const ctx = pageContext(c, apiFetch);
    let result: PageResult | Response;
    try {
      result = await handler(ctx);
    } catch (err) {
      if (err instanceof RestError && err.status === 404) return c.html(notFoundPage(ctx, describeFailure(err)), 404);
      throw err;
    }
    if (result instanceof Response) return result;
    const fragment = c.req.query('fragment');
    if (fragment) {
      const render = result.fragments?.[fragment];
      if (!render) return c.text(`this page has no live region "${fragment}"`, 404);
      return c.html(<>{await render()}</>);
    }
    return c.html(
      '<!doctype html>' +
        (
          <Layout
            title={result.title}
            section={result.section}
            caller={ctx.caller}
            flash={takeFlash(c)}
            scripts={result.scripts}
          >
            {result.body}
          </Layout>
        ).toString(),
    );
  });
}

function notFoundPage(ctx: PageContext, reason: string): string {
  return (
    '<!doctype html>' +
    (
      <Layout title="Not found" section="overview" caller={ctx.caller}>
        <h1>Not found</h1>
        <p>{reason}</p>
        <p>
          <a href="/">Back to the overview</a>
        </p>
      </Layout>
    ).toString()
  );
}

/** Same-origin paths only: a `next` or redirect must never send the browser elsewhere. */
export function safeLocalPath(path: string | undefined, fallback = '/'): string {
  return path && path.startsWith('/') && !path.startsWith('//') && !path.includes('\\') ? path : fallback;
}

export function registerAction(app: Hono<ConsoleEnv>, path: string, apiFetch: InProcessFetch, handler: ActionHandler) {
  app.post(path, async (c) => {
    const ctx = pageContext(c, apiFetch);
    const body = await c.req.parseBody();
    const form = Object.fromEntries(
      Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    let result: ActionResult;
    try {
      result = await handler(ctx, form);
    } catch (err) {
      const back = safeLocalPath(form['back'] ?? c.req.header('referer')?.replace(/^https?:\/\/[^/]+/, ''), '/');
      result = { redirect: back, flash: { kind: 'error', text: describeFailure(err) } };
    }
    if (result.flash)
      setCookie(c, FLASH_COOKIE, JSON.stringify(result.flash), {
        path: '/',
        httpOnly: true,
        sameSite: 'Strict',
        maxAge: 60,
      });
    return c.redirect(safeLocalPath(result.redirect), 303);
  });
}
