/**
 * @module support/console-browser
 * Drives the fleet console in Debian's Chromium for the console's browser tests: log in through
 * the login form, visit a page while recording its problems (console errors, failed requests,
 * CSP violations), and check it with axe-core (no serious or critical violation). Both theme
 * settings are exercised by the caller launching with `colorScheme`.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { checkAccessibility, collectPageProblems, type PageProblems } from './browser.js';

export async function logIn(page: Page, baseUrl: string, token: string, next = '/'): Promise<void> {
  await page.goto(`${baseUrl}${next}`);
  await page.waitForURL(/\/login/);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
}

export async function logOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(/\/login/);
}

export interface VisitOptions {
  /** HTTP statuses the page may see without it being a problem (e.g. an expected 403). */
  allowStatuses?: readonly number[];
  /** Skip the accessibility check (a page checked elsewhere). */
  skipAxe?: boolean;
}

/**
 * Opens a console page and asserts it loaded cleanly: HTTP 200, no console error, failed request
 * or CSP violation, and no serious or critical axe-core violation. Returns the problem recorder
 * (still recording) for checks after interaction.
 */
export async function visit(page: Page, url: string, options: VisitOptions = {}): Promise<PageProblems> {
  const problems = await collectPageProblems(page, { allowStatuses: options.allowStatuses ?? [] });
  const res = await page.goto(url);
  assert.equal(res?.status(), 200, `${url} answered ${res?.status()}`);
  // Settled: the live connection is up (pages behind a login) and every chart is drawn.
  if (await page.locator('#live-state').count())
    await page.waitForSelector('#live-state[data-state="live"]', { timeout: 15_000 });
  await page.waitForFunction(() => document.querySelectorAll('[data-chart]:not([data-drawn])').length === 0, null, {
    timeout: 15_000,
  });
  if (!options.skipAxe) {
    const report = await checkAccessibility(page);
    assert.equal(report.violations.length, 0, `${url}: accessibility violations:\n${report.summary}`);
  }
  // Leaving a page aborts its live-update connection; that is navigation, not a problem.
  const real = problems.list.filter(
    (p) => !(p.kind === 'request-failed' && /\/console\/events: net::ERR_ABORTED/.test(p.text)),
  );
  assert.equal(real.length, 0, `${url}: page problems:\n${real.map((p) => `${p.kind}: ${p.text}`).join('\n')}`);
  return problems;
}
