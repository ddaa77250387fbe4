/**
 * @module bench/predict
 * agent.predict_overhead: p50 of an HTTP predict (JPEG in → sharp → ONNX Runtime → fsynced
 * buffer write → JSON out) ÷ p50 of a bare script doing sharp + onnxruntime-node on the same
 * image and model. The headline figure uses a camera-sized frame (1280×720, textured, as a Pi
 * Camera delivers); the 640×480 figure and the fixed overhead in ms are reported beside it so
 * the cost per request is visible whatever the frame size.
 *
 * The agent runs as devices run it: its own process, the esbuild bundle (npm run build) on plain
 * node with the systemd unit's flags. The client is this process with a keep-alive HTTP client,
 * as a local application would be. The fleet server is stopped after the model is deployed, so
 * the figure is the agent's own cost (every record is still fsynced to its buffer).
 *
 * agent.predict_floor is the same measurement against the least such a server can do
 * (predict-floor-server.ts: plain node:http, the bare calls, one fsynced INSERT), also in its
 * own process: what the HTTP hop between two processes and one fsync cost on this machine by
 * themselves. agent.predict_over_floor_ms is what the agent adds on top of that, and
 * agent.predict_cpu_ms the CPU time the agent process spends per prediction (all its threads:
 * libvips, ONNX Runtime, GC) against the floor server's, which is what a busy Pi pays.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { percentile, timeEach, type Bench, type Figure } from './figure.js';
import { buildAgentBundle } from './agent-bundle.js';
import { startTestFleet } from '@edgeloop/test/support/in-process-fleet';
import { REPO, startAgentProcess, writeAgentConfig } from '@edgeloop/test/support/processes';

const ROUNDS = 6;
const PER_ROUND = 50;

/** A frame with texture (noise + shapes), so JPEG decoding costs what a real camera frame costs. */
async function frame(width: number, height: number): Promise<Buffer> {
  const noise = await sharp({
    create: {
      width,
      height,
      channels: 3,
      background: { r: 0, g: 0, b: 0 },
      noise: { type: 'gaussian', mean: 110, sigma: 30 },
    },
  })
    .png()
    .toBuffer();
  const shapes = Buffer.from(
    `<svg width="${width}" height="${height}"><circle cx="${width / 2}" cy="${height / 2}" r="${height / 4}" fill="white"/><rect x="20" y="20" width="${width / 5}" height="${height / 6}" fill="#305080"/></svg>`,
  );
  return sharp(noise)
    .composite([{ input: shapes }])
    .jpeg({ quality: 85 })
    .toBuffer();
}

function bareRunner(session: ort.InferenceSession, jpeg: Buffer) {
  return async () => {
    const raw = await sharp(jpeg).removeAlpha().resize(64, 48, { fit: 'fill' }).raw().toBuffer();
    const plane = 48 * 64;
    const data = new Float32Array(3 * plane);
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) data[c * plane + p] = raw[p * 3 + c]! / 255;
    await session.run({ image: new ort.Tensor('float32', data, [1, 3, 48, 64]) });
  };
}

function httpPredict(predictUrl: string, jpeg: Buffer, agent: http.Agent) {
  const url = new URL(predictUrl);
  return () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          agent,
          headers: { 'content-type': 'image/jpeg', 'content-length': jpeg.length },
        },
        (res) => {
          if (res.statusCode !== 200) reject(new Error(`predict answered ${res.statusCode}`));
          res.resume();
          res.on('end', () => resolve());
        },
      );
      req.on('error', reject);
      req.end(jpeg);
    });
}

/** The floor server (predict-floor-server.ts) in its own process, with the agent's node flags. */
async function startFloorServer(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      '--max-semi-space-size=1',
      '--import',
      'tsx',
      join(REPO, 'scripts/bench/predict-floor-server.ts'),
      SAMPLE_MODELS.v1,
      dataDir,
    ],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const line = d
        .toString()
        .split('\n')
        .find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`the floor server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** User + system CPU time of a process so far (all threads), from /proc; 10 ms resolution. */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function waitForModel(apiUrl: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await fetch(`${apiUrl}/v1/health/ready`)).status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the agent did not load the deployed model within 30 s');
}

export const predictBench: Bench = {
  name: 'agent.predict_overhead',
  async run(progress) {
    buildAgentBundle(progress);
    const frames = { '1280x720': await frame(1280, 720), '640x480': await frame(640, 480) };
    const session = await ort.InferenceSession.create(readFileSync(SAMPLE_MODELS.v1), { intraOpNumThreads: 1 });
    const h = await startTestFleet();
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const config = await writeAgentConfig(
      { httpUrl: h.server.httpUrl, mqttUrl: h.server.mqttUrl, publicKey: h.server.publicKey, adminToken: h.adminToken },
      h.dir,
      'bench-predict',
      {
        runtime: { intraOpThreads: 1 },
        log: { level: 'warn' },
      },
    );
    const agentProcess = await startAgentProcess(config, { bundle: true });
    try {
      const agent = agentProcess.ready;
      await h.deploySample('bench-predict');
      await waitForModel(agent.apiUrl);
      // Measure the agent alone, as on a device: the fleet server (its own fsyncs and CPU) would
      // otherwise share this machine. The agent keeps serving and buffering while offline.
      await h.server.close();
      const floorDir = mkdtempSync(join(tmpdir(), 'edgeloop-bench-floor-'));
      const floor = await startFloorServer(floorDir);
      const figures: Figure[] = [];
      try {
        for (const [size, jpeg] of Object.entries(frames)) {
          progress(`${size}: bare sharp + onnxruntime-node, floor server, agent (${ROUNDS} interleaved rounds)`);
          const runners = {
            bare: bareRunner(session, jpeg),
            floor: httpPredict(`${floor.url}/v1/predict`, jpeg, keepAlive),
            agent: httpPredict(`${agent.apiUrl}/v1/predict`, jpeg, keepAlive),
          };
          const samples = { bare: [] as number[], floor: [] as number[], agent: [] as number[] };
          for (const fn of Object.values(runners)) await timeEach(30, fn);
          // Interleaved rounds, so all three see the same machine load.
          const pids = { floor: floor.child.pid!, agent: agentProcess.child.pid! };
          const cpuMs = { bare: 0, floor: 0, agent: 0 };
          for (let round = 0; round < ROUNDS; round++) {
            for (const [k, fn] of Object.entries(runners)) {
              const key = k as keyof typeof samples;
              const before = key === 'bare' ? 0 : processCpuMs(pids[key]);
              samples[key].push(...(await timeEach(PER_ROUND, fn)));
              if (key !== 'bare') cpuMs[key] += processCpuMs(pids[key]) - before;
            }
          }
          const perRequest = (ms: number) => ms / (ROUNDS * PER_ROUND);
          const bare = percentile(samples.bare, 50);
          const floorP50 = percentile(samples.floor, 50);
          const p50 = percentile(samples.agent, 50);
          const suffix = size === '1280x720' ? '' : `_${size}`;
          figures.push(
            {
              name: `agent.predict_overhead${suffix}`,
              value: p50 / bare,
              unit: 'ratio',
              baseline: 1,
              note: `agent HTTP predict p50 ${p50.toFixed(2)} ms vs bare sharp+ORT p50 ${bare.toFixed(2)} ms (${size} JPEG)`,
            },
            {
              name: `agent.predict_fixed_overhead_ms${suffix}`,
              value: p50 - bare,
              unit: 'ms',
              baseline: bare,
              note: `HTTP + validation + features + fsynced record per request (${size}); baseline = bare p50 ms`,
            },
            {
              name: `agent.predict_floor${suffix}`,
              value: floorP50 / bare,
              unit: 'ratio',
              baseline: 1,
              note: `plain node:http + bare calls + one fsynced INSERT, own process: p50 ${floorP50.toFixed(2)} ms (${size})`,
            },
            {
              name: `agent.predict_over_floor_ms${suffix}`,
              value: p50 - floorP50,
              unit: 'ms',
              baseline: floorP50,
              note: `what the agent adds beyond the floor server (${size}); baseline = floor p50 ms`,
            },
            {
              name: `agent.predict_cpu_ms${suffix}`,
              value: perRequest(cpuMs.agent),
              unit: 'ms',
              baseline: perRequest(cpuMs.floor),
              note: `CPU time (all threads) of the agent process per prediction (${size}); baseline = the floor server's`,
            },
          );
        }
      } finally {
        floor.child.kill('SIGKILL');
        rmSync(floorDir, { recursive: true, force: true });
      }
      return figures;
    } finally {
      await agentProcess.kill('SIGTERM');
      keepAlive.destroy();
      await session.release();
      await h.close();
    }
  },
};
