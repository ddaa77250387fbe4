/**
 * @module bench/rss
 * agent.rss_overhead_mb: resident memory of an idle agent process with the sample model loaded
 * (and its buffer, API, MQTT link), minus that of a bare Node process holding an
 * onnxruntime-node session of the same model. Both run through tsx, so the loader's own memory
 * cancels out.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { SAMPLE_MODELS } from '@edgeloop/models';
import type { Bench } from './figure.js';
import { deploySample, startHarness } from './harness.js';
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

export const rssBench: Bench = {
  name: 'agent.rss_overhead_mb',
  async run(progress) {
    progress('bare Node process holding an ORT session');
    const bare = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', BARE, SAMPLE_MODELS.v1], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    let bareRss: number;
    try {
      await new Promise<void>((resolve, reject) => {
        bare.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        bare.once('exit', (code) => reject(new Error(`bare ORT process exited with ${code}`)));
      });
      bareRss = await settledRss(bare.pid!);
    } finally {
      bare.kill('SIGKILL');
    }

    progress('idle agent process with the model active');
    const h = await startHarness();
    try {
      const agent = await startAgentProcess(
        writeAgentConfig({ httpUrl: h.server.httpUrl, mqttUrl: h.server.mqttUrl, publicKey: h.server.publicKey, keyId: h.server.keyId }, h.dir, 'bench-rss', {
          runtime: { intraOpThreads: 1 },
          log: { level: 'warn' },
        }),
      );
      try {
        await deploySample(h, 'bench-rss');
        const agentRss = await settledRss(agent.child.pid!);
        return [{ name: 'agent.rss_overhead_mb', value: agentRss - bareRss, unit: 'MB', baseline: bareRss, note: `idle agent ${agentRss.toFixed(1)} MB vs bare ORT session ${bareRss.toFixed(1)} MB` }];
      } finally {
        await agent.kill('SIGTERM');
      }
    } finally {
      await h.close();
    }
  },
};

