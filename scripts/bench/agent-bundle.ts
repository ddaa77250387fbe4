/**
 * @module bench/agent-bundle
 * The benches run the agent as devices run it: the esbuild bundle. Built once per bench run
 * (from the working tree, so a figure never measures a stale bundle).
 */
import { execFileSync } from 'node:child_process';
import { REPO } from '../../test/support/processes.js';

let built = false;

export function buildAgentBundle(progress: (msg: string) => void): void {
  if (built) return;
  progress('building the agent bundle (npm run build)');
  execFileSync(process.execPath, ['agent/build.mjs'], { cwd: REPO, stdio: 'ignore' });
  built = true;
}
