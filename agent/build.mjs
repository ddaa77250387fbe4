// Bundles the agent into one ESM file for devices: no TypeScript loader at run time, one file to
// parse, ~40 MB less resident memory than running the sources through tsx. Native and WASM
// packages stay external (they load their binaries relative to their own package).
// `--outfile PATH` builds elsewhere (tests); PATH must be inside the checkout, so that the
// external packages resolve from its node_modules.
// `--esbuild DIR` takes esbuild from DIR/node_modules: esbuild is a development dependency, so a
// device install has none, and the installer fetches it into a temporary DIR just for this build.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = fileURLToPath(new URL('.', import.meta.url));
const { values } = parseArgs({ options: { outfile: { type: 'string' }, esbuild: { type: 'string' } } });
const { build } = values.esbuild
  ? createRequire(join(resolve(values.esbuild), 'package.json'))('esbuild')
  : await import('esbuild');
const outfile = values.outfile ? resolve(values.outfile) : `${here}dist/edgeloop-agent.mjs`;
const started = Date.now();
await build({
  entryPoints: [`${here}src/cli.ts`],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // V8 keeps a module's whole source text in the heap for as long as the process runs (lazy
  // compilation reads it again). Without whitespace and comments it is ~1.7 MB instead of ~2.5 MB,
  // and pure ASCII: the comments of our sources and of dependencies hold characters such as "—",
  // and one of them makes V8 store the whole text two bytes per character (~5 MB). Names are kept,
  // so stack traces in the journal still name their functions.
  minifyWhitespace: true,
  external: ['onnxruntime-node', 'onnxruntime-web', 'sharp', 'better-sqlite3'],
  // Some bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __edgeloopRequire } from 'node:module'; const require = __edgeloopRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
// esbuild escapes non-ASCII in strings and identifiers (charset "ascii"), not in legal comments:
// fail here rather than ship a bundle that silently costs twice its size in memory.
const bytes = readFileSync(outfile);
const at = bytes.findIndex((b) => b > 0x7f);
if (at >= 0)
  throw new Error(
    `${outfile} has a non-ASCII byte at offset ${at} (${JSON.stringify(bytes.subarray(Math.max(0, at - 40), at + 20).toString())}); V8 would keep the whole bundle as a two-byte string`,
  );
console.log(`built ${outfile} in ${Date.now() - started} ms`);
