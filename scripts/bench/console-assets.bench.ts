/**
 * @module bench/console-assets
 * console.js_kb: the largest JavaScript payload any console page makes a browser download, in KB
 * of gzip as the server sends it. A page loads the console script, at most the charts script and
 * its section's script, and the chunks they import; every such combination is measured and the
 * largest counts (the try-a-model page's WebAssembly runtime is not JavaScript and is not
 * counted). Baseline: the same payload minified but not compressed.
 */
import {
  CLIENT_ENTRIES,
  consoleBundle,
  pageJavaScriptBytes,
} from '../../fleet-server/src/console/assets/console-bundle.js';
import type { Bench } from './figure.js';

export const consoleAssetsBench: Bench = {
  name: 'console.js_kb',
  async run(progress) {
    progress('bundling the console scripts');
    const assets = await consoleBundle();
    const sections = Object.keys(CLIENT_ENTRIES).filter((e) => !['console', 'charts', 'console-css'].includes(e));
    const pages = [['console'], ['console', 'charts'], ...sections.map((s) => ['console', 'charts', s])];
    let worst = { entries: ['console'], gzip: 0, raw: 0 };
    for (const entries of pages) {
      const gzip = pageJavaScriptBytes(assets, entries, 'gzip');
      if (gzip > worst.gzip) worst = { entries, gzip, raw: pageJavaScriptBytes(assets, entries, 'raw') };
    }
    return [
      {
        name: 'console.js_kb',
        value: Math.round((worst.gzip / 1024) * 10) / 10,
        unit: 'KB',
        baseline: Math.round((worst.raw / 1024) * 10) / 10,
        note: `largest page JavaScript (${worst.entries.join(' + ')} and their chunks), gzip; baseline: the same minified, uncompressed (target ≤ 150 KB gzip)`,
      },
    ];
  },
};
