/**
 * @module bench/agent-bundle
 * The benches run the agent as devices run it: the esbuild bundle. Built once per bench run
 * (from the working tree, so a figure never measures a stale bundle).
 */
import { execFileSync } from 'node:child_process';
import { startTestFleet } from '@edgeloop/test/support/in-process-fleet';
import { REPO, startAgentProcess, writeAgentConfig } from '@edgeloop/test/support/processes';

let built = false;

export function buildAgentBundle(progress: (msg: string) => void): void {
  if (built) return;
  progress('building the agent bundle (npm run build)');
  execFileSync(process.execPath, ['agent/build.mjs'], { cwd: REPO, stdio: 'ignore' });
  built = true;
}

/**
 * Runs `measure` on the pid of an agent process serving the sample model, connected to an
 * in-process fleet (one ORT thread, warn-level logs), and stops both afterwards.
 */
export async function withServingAgent<T>(
  deviceId: string,
  bundle: boolean,
  measure: (pid: number) => Promise<T>,
): Promise<T> {
  const h = await startTestFleet();
  try {
    const config = await writeAgentConfig(
      { httpUrl: h.server.httpUrl, mqttUrl: h.server.mqttUrl, publicKey: h.server.publicKey, adminToken: h.adminToken },
      h.dir,
      deviceId,
      {
        runtime: { intraOpThreads: 1 },
        log: { level: 'warn' },
      },
    );
    const agent = await startAgentProcess(config, { bundle });
    try {
      await h.deploySample(deviceId);
      return await measure(agent.child.pid!);
    } finally {
      await agent.kill('SIGTERM');
    }
  } finally {
    await h.close();
  }
}
