/**
 * @module support/browser/launch
 * Debian's Chromium driven by playwright-core, for browser tests. playwright-core downloads no
 * browser: the one on PATH (`chromium`, else `chromium-browser`) is launched headless with a fresh
 * temporary profile that is removed on close. Where there is none, `browserOrSkip` skips the test
 * loudly instead of failing it, as the tests needing mosquitto or PostgreSQL do.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Flags that keep a test browser quiet: no GPU, no sandbox (root in CI), no calls home, no QUIC. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
] as const;

const CANDIDATES = ['chromium', 'chromium-browser'] as const;

export const MISSING_CHROMIUM = 'Debian chromium not on PATH; apt-get install chromium';

/** The absolute path of the first Chromium on PATH, or undefined. */
export function findChromium(): string | undefined {
  for (const name of CANDIDATES) {
    try {
      const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (path) return path;
    } catch {
      // not this one
    }
  }
  return undefined;
}

export interface TestBrowser {
  /** One browser profile: pages opened here share cookies and storage, as tabs do. */
  context: BrowserContext;
  /** Where the executable was found. */
  executable: string;
  /** e.g. "HeadlessChrome/156.0.8078.129". */
  version: string;
  newPage(): Promise<Page>;
  /** Closes the browser and removes its profile directory; safe to call twice. */
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Viewport of every page (default 1280×800). */
  viewport?: { width: number; height: number };
  /** Colour scheme the pages see (default light). */
  colorScheme?: 'light' | 'dark';
}

/** Launches the Chromium on PATH; throws with the install hint when there is none. */
export async function launchChromium(options: LaunchOptions = {}): Promise<TestBrowser> {
  const executable = findChromium();
  if (!executable) throw new Error(MISSING_CHROMIUM);
  const profile = mkdtempSync(join(tmpdir(), 'edgeloop-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: executable,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: options.viewport ?? { width: 1280, height: 800 },
      colorScheme: options.colorScheme ?? 'light',
      // A hung browser must not hang the test run.
      timeout: 30_000,
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`could not start ${executable}: ${(err as Error).message}`, { cause: err });
  }
  // A persistent context has no Browser object to ask; the DevTools protocol knows the build.
  const first = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(first);
  const { product: version } = await cdp.send('Browser.getVersion');
  await cdp.detach();
  let closed = false;
  return {
    context,
    executable,
    version,
    newPage: () => context.newPage(),
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A launched browser closed when the test ends, or undefined after marking the test skipped with
 * a loud banner when Chromium is not installed. Callers return on undefined:
 * `const browser = await browserOrSkip(t); if (!browser) return;`
 */
export async function browserOrSkip(t: TestContext, options?: LaunchOptions): Promise<TestBrowser | undefined> {
  if (!findChromium()) {
    console.error(`\n${'*'.repeat(78)}\n*** SKIPPED: ${MISSING_CHROMIUM}\n*** (${t.name})\n${'*'.repeat(78)}\n`);
    t.skip(MISSING_CHROMIUM);
    return undefined;
  }
  const browser = await launchChromium(options);
  t.after(() => browser.close());
  return browser;
}
