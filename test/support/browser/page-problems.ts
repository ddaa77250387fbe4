/**
 * @module support/browser/page-problems
 * Records what goes wrong in a page while a test drives it: console errors, uncaught exceptions,
 * failed requests, HTTP error answers and Content-Security-Policy violations (both the
 * `securitypolicyviolation` event and Chromium's console report of a blocked script), so a test
 * can assert that a page worked without any of them.
 */
import type { Page, Request } from 'playwright-core';

export type ProblemKind = 'console' | 'exception' | 'request-failed' | 'http-error' | 'csp';

export interface PageProblem {
  kind: ProblemKind;
  text: string;
}

export interface PageProblems {
  readonly list: readonly PageProblem[];
  /** The problems of one kind. */
  of(kind: ProblemKind): PageProblem[];
  /** One line per problem, for assertion messages; "" when there are none. */
  summary(): string;
  /** Stops recording (the page's listeners are removed). */
  stop(): void;
}

export interface PageProblemOptions {
  /** Answers with these statuses are not problems (e.g. a test that expects a 403). */
  allowStatuses?: readonly number[];
}

const BINDING = '__edgeloopReportCspViolation';
const cspListeners = new WeakMap<Page, Set<(text: string) => void>>();
// Chromium's wording: "Executing inline script violates the following Content Security Policy directive …"
// (older builds: "Refused to execute inline script because it violates … Content Security Policy …").
const CSP_CONSOLE = /Content Security Policy/;

/**
 * Starts recording on a page; call before navigating so nothing in the first load is missed.
 * The CSP listener is installed as an init script through the DevTools protocol, which the
 * page's own CSP does not block.
 */
export async function collectPageProblems(page: Page, options: PageProblemOptions = {}): Promise<PageProblems> {
  const list: PageProblem[] = [];
  const allowed = new Set(options.allowStatuses ?? []);
  const add = (kind: ProblemKind, text: string) => list.push({ kind, text });

  const onConsole = (m: { type(): string; text(): string; location(): { url: string } }) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (CSP_CONSOLE.test(text)) return add('csp', text);
    // "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    const status = /status of (\d{3})/.exec(text)?.[1];
    if (status !== undefined && allowed.has(Number(status))) return;
    // Chromium asks for /favicon.ico by itself; a page that has none is not broken.
    if (status === '404' && m.location().url.endsWith('/favicon.ico')) return;
    add('console', m.location().url ? `${text} (${m.location().url})` : text);
  };
  const onError = (err: Error) => add('exception', err.stack ?? err.message);
  const onFailed = (r: Request) => {
    // An answer that came and was then refused (a 404 script under nosniff) is already an http-error.
    void r.response().then((answered) => {
      if (!answered) add('request-failed', `${r.method()} ${r.url()}: ${r.failure()?.errorText ?? 'failed'}`);
    });
  };
  const onResponse = (r: { status(): number; url(): string; request(): { method(): string } }) => {
    if (r.status() >= 400 && !allowed.has(r.status()))
      add('http-error', `${r.request().method()} ${r.url()} answered ${r.status()}`);
  };
  page.on('console', onConsole);
  page.on('pageerror', onError);
  page.on('requestfailed', onFailed);
  page.on('response', onResponse);

  let listeners = cspListeners.get(page);
  if (!listeners) {
    // One binding per page, whichever collectors listen to it now.
    const set = new Set<(text: string) => void>();
    cspListeners.set(page, (listeners = set));
    await page.exposeBinding(BINDING, (_source, text: string) => set.forEach((l) => l(text)));
    await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => {
      window.${BINDING}(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +
        (e.sourceFile ? ' at ' + e.sourceFile + ':' + e.lineNumber : ''));
    });`);
  }
  const onCsp = (text: string) => add('csp', text);
  listeners.add(onCsp);

  let stopped = false;
  return {
    list,
    of: (kind) => list.filter((p) => p.kind === kind),
    summary: () => list.map((p) => `${p.kind}: ${p.text}`).join('\n'),
    stop() {
      if (stopped) return;
      stopped = true;
      page.off('console', onConsole);
      page.off('pageerror', onError);
      page.off('requestfailed', onFailed);
      page.off('response', onResponse);
      listeners.delete(onCsp);
    },
  };
}
