#!/usr/bin/env node
// Finds every *.test.ts in the workspaces and runs them with node's test runner through tsx.
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
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...passThrough, ...files],
  {
    cwd: root,
    stdio: 'inherit',
    env: { EDGELOOP_VALIDATE_RESPONSES: '1', ...process.env },
  },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
