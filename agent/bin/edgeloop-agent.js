#!/usr/bin/env node
// Devices run the single-file bundle (npm run build; the installer builds it and sets
// EDGELOOP_AGENT_BUNDLE=1 in the systemd unit): no TypeScript loader, ~40 MB less memory.
// Otherwise the TypeScript sources run through tsx, so a checkout never runs a stale bundle.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/edgeloop-agent.mjs', import.meta.url));
if (process.env.EDGELOOP_AGENT_BUNDLE === '1' && existsSync(bundle)) {
  // The bundle runs its CLI itself when it is the entry point; make it one.
  process.argv[1] = bundle;
  await import(bundle);
} else {
  if (process.env.EDGELOOP_AGENT_BUNDLE === '1') console.error(`edgeloop-agent: ${bundle} is missing (run npm run build); running from sources`);
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli.ts');
  process.exitCode = await main(process.argv.slice(2));
}
