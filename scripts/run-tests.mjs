#!/usr/bin/env node
// Finds every *.test.ts in the workspaces and runs them with node's test runner through tsx
// (two files at a time; the timing-sensitive simulations in ALONE afterwards, one at a time).
// Node 20's runner does not expand globs itself. Arguments narrow the run to paths containing
// them: `npm test -- agent/` or `npm test -- fault`.
// Every fleet server a test starts checks its API answers against the REST contract
// (EDGELOOP_VALIDATE_RESPONSES=1; an answer that breaks it is answered 500, failing the test).
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const roots = ['protocol', 'models', 'agent', 'simulator', 'fleet-server', 'test'];
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'));

function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.name.endsWith('.test.ts')) out.push(relative(root, full));
  }
  return out;
}

const files = roots
  .flatMap((r) => walk(join(root, r), []))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(', ')}`);
  process.exit(1);
}
// Simulations on compressed time measure wall seconds: a core taken by another test file (the
// browser tests, a trainer) costs them timeScale simulated seconds each. They run after the rest,
// one at a time.
const ALONE = ['test/e2e/closed-loop.test.ts', 'test/e2e/drift-detection.test.ts'];
const shared = files.filter((f) => !ALONE.includes(f));
const alone = files.filter((f) => ALONE.includes(f));

function run(list, concurrency) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-reporter=spec',
        `--test-concurrency=${concurrency}`,
        ...passThrough,
        ...list,
      ],
      { cwd: root, stdio: 'inherit', env: { EDGELOOP_VALIDATE_RESPONSES: '1', ...process.env } },
    );
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

let failed = 0;
if (shared.length > 0) failed = await run(shared, 2);
if (alone.length > 0) {
  if (shared.length > 0) console.log(`\n=== timing-sensitive simulations, one at a time: ${alone.join(', ')}`);
  failed = (await run(alone, 1)) || failed;
}
process.exit(failed);
