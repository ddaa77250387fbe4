/**
 * @module bench/rss
 * agent.rss_overhead_mb: resident memory of an idle agent process with the sample model loaded
 * (and its buffer, API, MQTT link), minus that of a bare Node process holding an
 * onnxruntime-node session of the same model. The agent runs as devices should run it: the
 * esbuild bundle (npm run build) on plain node with the systemd unit's node flags and environment
 * (deviceRuntime). The bare process gets the same flags and environment, so the difference is
 * what the agent's code and state cost, not a runtime setting that would shrink either process.
 * agent.rss_overhead_mb_tsx is the same agent run from its TypeScript sources through tsx
 * (development mode), against a bare process also under tsx.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { SAMPLE_MODELS } from '@edgeloop/models';
import type { Bench } from './figure.js';
import { buildAgentBundle, withServingAgent } from './agent-bundle.js';
import { REPO, deviceRuntime } from '@edgeloop/test/support/processes';

/** VmRSS and its anonymous (heaps) and file-backed (code of node and native libraries) parts, MB. */
interface Rss {
  total: number;
  anon: number;
  file: number;
}

function rssMb(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { total: mb('VmRSS'), anon: mb('RssAnon'), file: mb('RssFile') };
}

/** Median of a few readings after the process settled (GC, lazy pages). */
async function settledRss(pid: number): Promise<Rss> {
  await new Promise((r) => setTimeout(r, 3000));
  const readings: Rss[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(rssMb(pid));
    await new Promise((r) => setTimeout(r, 200));
  }
  return readings.sort((a, b) => a.total - b.total)[2]!;
}

const fmt = (r: Rss) => `${r.total.toFixed(1)} MB (anon ${r.anon.toFixed(1)}, file ${r.file.toFixed(1)})`;

const BARE = `
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
const s = await ort.InferenceSession.create(readFileSync(process.argv[1]), { intraOpNumThreads: 1 });
await s.run({ image: new ort.Tensor('float32', new Float32Array(3 * 48 * 64), [1, 3, 48, 64]) });
console.log('ready');
setInterval(() => {}, 1000);
`;

async function bareRss(viaTsx: boolean): Promise<Rss> {
  // The bundled agent runs with the unit's flags and environment (startAgentProcess); so does its
  // bare counterpart. The tsx pair runs both with node's defaults.
  const device = viaTsx ? { nodeFlags: [], env: {} } : deviceRuntime();
  const bare = spawn(
    process.execPath,
    [...device.nodeFlags, ...(viaTsx ? ['--import', 'tsx'] : []), '--input-type=module', '-e', BARE, SAMPLE_MODELS.v1],
    {
      cwd: REPO,
      env: { ...process.env, ...device.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
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

function agentRss(bundle: boolean, deviceId: string): Promise<Rss> {
  return withServingAgent(deviceId, bundle, settledRss);
}

export const rssBench: Bench = {
  name: 'agent.rss_overhead_mb',
  async run(progress) {
    buildAgentBundle(progress);
    progress('bare Node process holding an ORT session, then the bundled agent');
    const bare = await bareRss(false);
    const agent = await agentRss(true, 'bench-rss');
    progress('the same under tsx (development mode)');
    const bareTsx = await bareRss(true);
    const agentTsx = await agentRss(false, 'bench-rss-tsx');
    return [
      {
        name: 'agent.rss_overhead_mb',
        value: agent.total - bare.total,
        unit: 'MB',
        baseline: bare.total,
        note: `idle bundled agent ${fmt(agent)} vs bare ORT session ${fmt(bare)}`,
      },
      {
        name: 'agent.rss_overhead_mb_tsx',
        value: agentTsx.total - bareTsx.total,
        unit: 'MB',
        baseline: bareTsx.total,
        note: `idle agent from sources under tsx ${fmt(agentTsx)} vs bare under tsx ${fmt(bareTsx)}`,
      },
    ];
  },
};
