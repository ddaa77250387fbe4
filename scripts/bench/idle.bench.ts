/**
 * @module bench/idle
 * agent.idle_cpu_pct: CPU time of an idle agent — sample model loaded, fleet connected, nothing
 * to predict or sync — in % of one core, read from /proc/<pid>/stat (utime + stime) over a
 * window (60 s; EDGELOOP_BENCH_IDLE_SECONDS for a quick run). The agent runs as devices run
 * it: the esbuild bundle on plain node with the systemd unit's flags and environment. The
 * baseline is a bare Node process with the same flags idling over the same window in the same
 * run, so the difference is what the agent's own wakeups cost (timers, polls, monitors).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

import type { Bench } from './figure.js';
import { buildAgentBundle, withServingAgent } from './agent-bundle.js';
import { REPO, deviceRuntime } from '@edgeloop/test/support/processes';

const DEFAULT_WINDOW_S = 60;
/** Startup work (JIT, first inference, birth, first sync) is not idle: wait before measuring. */
const SETTLE_MS = 5000;

function windowSeconds(): number {
  const raw = process.env.EDGELOOP_BENCH_IDLE_SECONDS;
  if (raw === undefined || raw === '') return DEFAULT_WINDOW_S;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0)
    throw new Error(`EDGELOOP_BENCH_IDLE_SECONDS must be a positive number of seconds, got "${raw}"`);
  return s;
}

/** utime + stime of a process in seconds (fields 14 and 15 of /proc/<pid>/stat, in clock ticks). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after it are counted from its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ: 100 on every Linux the agent runs on
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

async function idleCpuPct(pid: number, seconds: number): Promise<number> {
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu1 = cpuSeconds(pid);
  return ((cpu1 - cpu0) / ((performance.now() - t0) / 1000)) * 100;
}

async function bareIdle(seconds: number): Promise<number> {
  const device = deviceRuntime();
  // A bare process needs one handle to stay alive; an hourly timer wakes it as good as never.
  const bare = spawn(
    process.execPath,
    [...device.nodeFlags, '-e', 'setInterval(() => {}, 3_600_000); console.log("ready")'],
    {
      cwd: REPO,
      env: { ...process.env, ...device.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      bare.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      bare.once('exit', (code) => reject(new Error(`bare Node process exited with ${code}`)));
    });
    return await idleCpuPct(bare.pid!, seconds);
  } finally {
    bare.kill('SIGKILL');
  }
}

function agentIdle(seconds: number): Promise<number> {
  return withServingAgent('bench-idle', true, (pid) => idleCpuPct(pid, seconds));
}

export const idleBench: Bench = {
  name: 'agent.idle_cpu_pct',
  async run(progress) {
    const seconds = windowSeconds();
    buildAgentBundle(progress);
    progress(
      `bare Node process idling ${seconds} s, then the bundled agent (model loaded, fleet connected) ${seconds} s`,
    );
    const bare = await bareIdle(seconds);
    const agent = await agentIdle(seconds);
    return [
      {
        name: 'agent.idle_cpu_pct',
        value: agent,
        unit: '% core',
        baseline: bare,
        note: `idle bundled agent over ${seconds} s vs a bare Node process with the same flags; target ≤ 0.5`,
      },
    ];
  },
};
