/**
 * @module bench/rss
 * agent.rss_overhead_mb: resident memory of an idle agent process with the sample model loaded
 * (and its buffer, API, MQTT link), minus that of a bare Node process holding an
 * onnxruntime-node session of the same model. The agent runs as devices should run it: the
 * esbuild bundle (npm run build) on plain node. agent.rss_overhead_mb_tsx is the same agent run
 * from its TypeScript sources through tsx (development mode), against a bare process also under tsx.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { SAMPLE_MODELS } from '@edgeloop/models';
import type { Bench } from './figure.js';
import { startTestFleet } from '../../test/support/in-process-fleet.js';
import { REPO, startAgentProcess, writeAgentConfig } from '../../test/support/processes.js';

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Median of a few readings after the process settled (GC, lazy pages). */
async function settledRss(pid: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 3000));
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(rssMb(pid));
    await new Promise((r) => setTimeout(r, 200));
  }
  return readings.sort((a, b) => a - b)[2]!;
}

const BARE = `
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
const s = await ort.InferenceSession.create(readFileSync(process.argv[1]), { intraOpNumThreads: 1 });
await s.run({ image: new ort.Tensor('float32', new Float32Array(3 * 48 * 64), [1, 3, 48, 64]) });
console.log('ready');
setInterval(() => {}, 1000);
`;

async function bareRss(viaTsx: boolean): Promise<number> {
  const bare = spawn(process.execPath, [...(viaTsx ? ['--import', 'tsx'] : []), '--input-type=module', '-e', BARE, SAMPLE_MODELS.v1], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      bare.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      bare.once('exit', (code) => reject(new Error(`bare ORT process exited with ${code}`)));
    });
    return await settledRss(bare.pid!);
  } finally {
    bare.kill('SIGKILL');
  }
}

async function agentRss(bundle: boolean, deviceId: string): Promise<number> {
  const h = await startTestFleet();
  try {
    const config = await writeAgentConfig({ httpUrl: h.server.httpUrl, mqttUrl: h.server.mqttUrl, publicKey: h.server.publicKey, adminToken: h.adminToken }, h.dir, deviceId, {
      runtime: { intraOpThreads: 1 },
      log: { level: 'warn' },
    });
    const agent = await startAgentProcess(config, { bundle });
    try {
      await h.deploySample(deviceId);
      return await settledRss(agent.child.pid!);
    } finally {
      await agent.kill('SIGTERM');
    }
  } finally {
    await h.close();
  }
}

export const rssBench: Bench = {
  name: 'agent.rss_overhead_mb',
  async run(progress) {
    progress('building the agent bundle (npm run build)');
    execFileSync(process.execPath, ['agent/build.mjs'], { cwd: REPO, stdio: 'ignore' });
    progress('bare Node process holding an ORT session, then the bundled agent');
    const bare = await bareRss(false);
    const agent = await agentRss(true, 'bench-rss');
    progress('the same under tsx (development mode)');
    const bareTsx = await bareRss(true);
    const agentTsx = await agentRss(false, 'bench-rss-tsx');
    return [
      { name: 'agent.rss_overhead_mb', value: agent - bare, unit: 'MB', baseline: bare, note: `idle bundled agent ${agent.toFixed(1)} MB vs bare ORT session ${bare.toFixed(1)} MB` },
      { name: 'agent.rss_overhead_mb_tsx', value: agentTsx - bareTsx, unit: 'MB', baseline: bareTsx, note: `idle agent from sources under tsx ${agentTsx.toFixed(1)} MB vs bare under tsx ${bareTsx.toFixed(1)} MB` },
    ];
  },
};

