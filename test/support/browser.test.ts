import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  browserOrSkip,
  checkAccessibility,
  collectPageProblems,
  CONTENT_TYPES,
  serveStatic,
  STRICT_CSP,
  type StaticFile,
} from './browser.js';

const html = (title: string, body: string): StaticFile => ({
  type: CONTENT_TYPES.html,
  body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body><main><h1>${title}</h1>${body}</main></body></html>`,
});

const FILES: Record<string, StaticFile> = {
  '/': html(
    'Counter',
    `<p>Clicked <output id="count" aria-live="polite">0</output> times.</p>
     <button type="button" id="more">Count</button>
     <script type="module" src="/app.js"></script>`,
  ),
  '/app.js': {
    type: CONTENT_TYPES.js,
    body: `const out = document.getElementById('count');
document.getElementById('more').addEventListener('click', () => { out.textContent = String(Number(out.textContent) + 1); });`,
  },
  '/inline': html(
    'Inline',
    `<p id="p">untouched</p><script>document.getElementById('p').textContent = 'ran';</script>`,
  ),
  '/broken': html('Broken', `<p>A missing picture.</p><img alt="a wall" src="/missing.png">`),
  '/unlabelled': html(
    'Unlabelled',
    `<form><input type="text" name="device"><button type="submit">Find</button></form><img src="/nothing.png">`,
  ),
};

test('Chromium runs an external script under script-src self; axe is evaluated despite that CSP', async (t) => {
  const browser = await browserOrSkip(t);
  if (!browser) return;
  assert.ok(existsSync(browser.executable), browser.executable);
  assert.match(browser.version, /Chrom/);
  const server = await serveStatic(FILES);
  t.after(() => server.close());
  const page = await browser.newPage();
  const problems = await collectPageProblems(page);
  const response = await page.goto(`${server.url}/`);
  assert.equal(response?.headers()['content-security-policy'], STRICT_CSP);

  await page.getByRole('button', { name: 'Count' }).click();
  await page.getByRole('button', { name: 'Count' }).click();
  assert.equal(await page.locator('#count').textContent(), '2');

  const report = await checkAccessibility(page);
  assert.deepEqual(report.violations, [], report.summary);
  assert.equal(await page.evaluate('typeof axe.run'), 'function', 'axe loaded without an inline <script>');
  assert.equal(problems.summary(), '', 'no console error, failed request or CSP violation');
  assert.deepEqual(
    server.requests.map((r) => r.path).filter((p) => p !== '/favicon.ico'),
    ['/', '/app.js'],
  );
});

test('a serious accessibility violation is found and named with its element', async (t) => {
  const browser = await browserOrSkip(t);
  if (!browser) return;
  const server = await serveStatic(FILES);
  t.after(() => server.close());
  const page = await browser.newPage();
  await page.goto(`${server.url}/unlabelled`);
  const report = await checkAccessibility(page);
  const ids = report.violations.map((v) => v.id).sort();
  assert.deepEqual(ids, ['image-alt', 'label'], report.summary);
  const label = report.violations.find((v) => v.id === 'label')!;
  assert.equal(label.impact, 'critical');
  assert.deepEqual(label.targets, ['input']);
  assert.match(report.summary, /^critical label: .* at input$/m);

  // Checking part of the page, or waiving a rule, narrows the report.
  assert.deepEqual(
    (await checkAccessibility(page, { include: 'form' })).violations.map((v) => v.id),
    ['label'],
  );
  assert.deepEqual((await checkAccessibility(page, { disableRules: ['label', 'image-alt'] })).violations, []);
});

test('the problem recorder sees a blocked inline script and a missing file, and lets through the statuses a test allows', async (t) => {
  const browser = await browserOrSkip(t);
  if (!browser) return;
  const server = await serveStatic(FILES);
  t.after(() => server.close());
  const page = await browser.newPage();
  const problems = await collectPageProblems(page);

  await page.goto(`${server.url}/inline`);
  assert.equal(await page.locator('#p').textContent(), 'untouched', 'the CSP blocked the inline script');
  await page.waitForFunction('true'); // let the violation event's binding call arrive
  await waitFor(() => problems.of('csp').length >= 2);
  const csp = problems.of('csp').map((p) => p.text);
  assert.ok(
    csp.some((text) => /^script-src(-elem)? blocked inline/.test(text)),
    `securitypolicyviolation event recorded: ${csp.join(' | ')}`,
  );
  assert.ok(
    csp.some((text) => /Content Security Policy/.test(text)),
    `console report recorded: ${csp.join(' | ')}`,
  );

  await page.goto(`${server.url}/broken`);
  await waitFor(() => problems.of('http-error').length > 0);
  assert.match(problems.of('http-error')[0]!.text, /GET http:\/\/127\.0\.0\.1:\d+\/missing\.png answered 404/);
  problems.stop();

  // A test that expects refusals says which statuses are fine.
  const tolerant = await collectPageProblems(page, { allowStatuses: [404] });
  await page.goto(`${server.url}/broken`);
  await page.waitForLoadState('load');
  assert.equal(tolerant.summary(), '');
});

async function waitFor(condition: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
