/**
 * @module bench/install-size
 * agent.install_mb: disk used by node_modules of the agent as firmware-scripts/install.sh lays it
 * down for this machine's CPU, in MB of 2^20 bytes as `du` counts them. The installer runs for
 * real, with its `npm ci` (the npm registry must be reachable; minutes), staged into a temp dir
 * (--root) so nothing on the machine changes. The baseline is the same node_modules before the
 * installer's prune step, as that step reports it in the same run: npm's install for this CPU
 * (one ONNX Runtime backend, no development dependencies) with better-sqlite3's build leftovers
 * and onnxruntime-node's binaries for every other OS and CPU still in it.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encodePublicKey, generateKeyPair } from '@edgeloop/protocol';
import type { Bench } from './figure.js';
import { REPO } from '@edgeloop/test/support/processes';

const APP_DIR = 'opt/edgeloop/agent';
const UNPRUNED = /node_modules: ([\d.]+) MB as npm ci laid it down/;

/** Runs install.sh, forwarding its progress lines; resolves with its stdout. */
function runInstaller(root: string, progress: (msg: string) => void): Promise<string> {
  const args = [
    '--root',
    root,
    '--source',
    REPO,
    '--device-id',
    'bench-install',
    '--mqtt-url',
    'mqtt://127.0.0.1:1',
    '--trusted-key',
    encodePublicKey(generateKeyPair().publicKey),
  ];
  // This machine as it is: no faked board or CPU.
  const { EDGELOOP_MACHINE: _machine, EDGELOOP_SYSROOT: _sysroot, ...env } = process.env;
  const child = spawn(join(REPO, 'firmware-scripts/install.sh'), args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout += `${line}\n`;
    progress(line);
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`install.sh exited with ${code}:\n${stderr.slice(-4000)}`)),
    );
  });
}

function duMb(path: string): number {
  return Number(execFileSync('du', ['-sk', path], { encoding: 'utf8' }).split('\t')[0]) / 1024;
}

export const installSizeBench: Bench = {
  name: 'agent.install_mb',
  async run(progress) {
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-bench-install-'));
    try {
      progress(`staging install.sh with its npm ci into ${dir} (needs the npm registry; a few minutes)`);
      const out = await runInstaller(join(dir, 'root'), progress);
      const unpruned = UNPRUNED.exec(out);
      if (!unpruned)
        throw new Error(`install.sh did not report the size before pruning ("${UNPRUNED.source}"):\n${out}`);
      const installed = duMb(join(dir, 'root', APP_DIR, 'node_modules'));
      return [
        {
          name: 'agent.install_mb',
          value: installed,
          unit: 'MB',
          baseline: Number(unpruned[1]),
          note: `node_modules of install.sh's device install for ${process.arch} (du, MB of 2^20 bytes); baseline = the same before its prune step; target ≤ 120`,
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
