#!/usr/bin/env node
// Devices run the single-file bundle (npm run build; the installer builds it): no TypeScript
// loader, ~40 MB less memory. A device install has no tsx at all (it is a development
// dependency), so there the bundle is the only choice. A checkout runs the TypeScript sources
// through tsx, so it never runs a stale bundle, unless EDGELOOP_AGENT_BUNDLE=1 asks for the bundle
// (the systemd unit sets it; tests and benchmarks run the bundle that way).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/edgeloop-agent.mjs', import.meta.url));

function hasTsx() {
  try {
    import.meta.resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

const tsx = hasTsx();
const wantBundle = process.env.EDGELOOP_AGENT_BUNDLE === '1' || !tsx;
if (wantBundle && existsSync(bundle)) {
  // The bundle runs its CLI itself when it is the entry point; make it one.
  process.argv[1] = bundle;
  await import(bundle);
} else if (!tsx) {
  console.error(
    `edgeloop-agent: ${bundle} is missing and tsx is not installed, so there is nothing to run; re-run firmware-scripts/install.sh (it builds the bundle), or in a checkout run npm ci and npm run build`,
  );
  process.exitCode = 1;
} else {
  if (wantBundle) console.error(`edgeloop-agent: ${bundle} is missing (run npm run build); running from sources`);
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli.ts');
  process.exitCode = await main(process.argv.slice(2));
}
