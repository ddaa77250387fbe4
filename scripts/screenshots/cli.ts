/**
 * @module screenshots/cli
 * `npm run screenshots`: a PNG of every console page, taken in Debian's Chromium from a running
 * demo. By default it plays a short demo itself (`npm run demo` with 4 cars, phase 1 and the
 * green-floor phase: drift, an incident, a retraining loop run, a canary) and photographs the
 * console while that fleet still runs; `--url URL --token TOKEN` photographs a fleet that is
 * already running instead (e.g. one `npm start` or `npm run demo` started).
 * Files: <out>/<page>.png (default docs/screenshots), light theme, and <page>-dark.png for the
 * overview and drift pages.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRestClient } from '@edgeloop/protocol/client';
import { findChromium, launchChromium, MISSING_CHROMIUM } from '@edgeloop/test/support/browser';
import { logIn } from '@edgeloop/test/support/console-browser';
import { runDemo } from '../demo/run-demo.js';
import { consoleShots } from './console-pages.js';

const USAGE = `usage: npm run screenshots -- [--out DIR] [--url URL --token TOKEN] [--model NAME]
  --out    where the PNGs go (default docs/screenshots)
  --url    a running fleet server's address (default: play a short demo and use its fleet)
  --token  an admin token of that server (viewer role is enough)
  --model  the model the model and drift pages show (default distance)`;

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'docs/screenshots' },
    url: { type: 'string' },
    token: { type: 'string' },
    model: { type: 'string', default: 'distance' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if ((values.url === undefined) !== (values.token === undefined)) {
  console.error(`error: --url and --token go together\n${USAGE}`);
  process.exit(2);
}
if (!findChromium()) {
  console.error(`error: ${MISSING_CHROMIUM} (the screenshots are taken in Debian's Chromium)`);
  process.exit(1);
}
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const say = (line: string) => console.error(`[screenshots] ${line}`);

async function photograph(baseUrl: string, token: string): Promise<void> {
  const api = createRestClient({ baseUrl, headers: { authorization: `Bearer ${token}` } });
  const { shots, missing } = await consoleShots(api, values.model!);
  for (const m of missing) say(`left out: ${m}`);
  for (const scheme of ['light', 'dark'] as const) {
    const browser = await launchChromium({ viewport: { width: 1440, height: 1000 }, colorScheme: scheme });
    try {
      const page = await browser.newPage();
      await logIn(page, baseUrl, token);
      const wanted = scheme === 'light' ? shots : shots.filter((s) => s.name === 'overview' || s.name === 'drift');
      for (const [i, shot] of wanted.entries()) {
        const file = join(out, `${shot.name}${scheme === 'dark' ? '-dark' : ''}.png`);
        say(`${i + 1}/${wanted.length} ${scheme} ${shot.path}`);
        await page.goto(`${baseUrl}${shot.path}`);
        await page.waitForSelector('#live-state[data-state="live"]', { timeout: 15_000 }).catch(() => {});
        if (shot.waitFor)
          await page
            .waitForSelector(shot.waitFor, { timeout: 15_000 })
            .catch(() => say(`  (${shot.waitFor} did not appear)`));
        await page.waitForTimeout(300);
        await page.screenshot({ path: file, fullPage: true });
      }
    } finally {
      await browser.close();
    }
  }
  say(`wrote ${shots.length} pages (+2 dark) to ${out}`);
}

if (values.url !== undefined) {
  await photograph(values.url.replace(/\/+$/, ''), values.token!);
} else {
  say('playing a short demo (4 cars, phase 1 and the green floor) to photograph; a few minutes');
  await runDemo({
    devices: 4,
    phases: [1, 3],
    progress: (line) => say(line),
    inspect: async (fleet) => photograph(fleet.server.httpUrl, fleet.adminToken),
  });
}
