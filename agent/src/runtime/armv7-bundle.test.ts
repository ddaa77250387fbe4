/**
 * The device bundle (agent/build.mjs) on a 32-bit ARM board, emulated as in armv7-fallback.test.ts.
 * esbuild hoists a static import of an external package to the top of the bundle, so an ORT
 * package imported at module level would load on every device: onnxruntime-node would then fail
 * the whole bundle on armv7 before select-backend could choose WASM. The bundle must start there,
 * choose the WASM backend and answer its API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encodePublicKey, generateKeyPair } from '@edgeloop/protocol';

const AGENT_DIR = fileURLToPath(new URL('../../', import.meta.url));

// Loads sharp's x64 binary first (it looks its binary up by process.arch too), then pretends to be
// armv7 and runs the bundle as its entry point: argv[1] is the bundle, the rest its CLI arguments.
const CHILD = `
await import('sharp');
Object.defineProperty(process, 'arch', { value: 'arm' });
await import(process.argv[1]);
`;

test(
  'the bundled agent starts on armv7 without onnxruntime-node and serves on WASM',
  { timeout: 90_000 },
  async (t) => {
    // Inside the checkout (agent/dist is git-ignored) so the external packages resolve; never the
    // real agent/dist/edgeloop-agent.mjs, which a benchmark may be running.
    const outDir = join(AGENT_DIR, 'dist', `test-armv7-${process.pid}`);
    const dataDir = mkdtempSync(join(tmpdir(), 'edgeloop-armv7-bundle-'));
    t.after(() => {
      rmSync(outDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    });
    const bundle = join(outDir, 'edgeloop-agent.mjs');
    execFileSync(process.execPath, [join(AGENT_DIR, 'build.mjs'), '--outfile', bundle], { stdio: 'pipe' });

    const config = join(dataDir, 'agent.json');
    writeFileSync(
      config,
      JSON.stringify({
        deviceId: 'armv7-bundle',
        dataDir: join(dataDir, 'state'),
        api: { port: 0 },
        // No fleet: the agent must start and serve without ever reaching it.
        fleet: { mqttUrl: 'mqtt://127.0.0.1:9', trustedKeys: [encodePublicKey(generateKeyPair().publicKey)] },
      }),
    );
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', CHILD, bundle, 'run', '--config', config, '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const lines: string[] = [];
    const apiUrl = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        const msg = JSON.parse(line) as { event?: string; apiUrl?: string };
        if (msg.event === 'ready') resolve(msg.apiUrl!);
      });
      child.once('exit', (code) =>
        reject(new Error(`the bundle exited with ${code} before it was ready:\n${lines.join('\n')}\n${stderr}`)),
      );
    });

    const chosen = lines.map((l) => JSON.parse(l) as { msg?: string; backend?: string }).find((l) => l.backend);
    assert.equal(chosen?.backend, 'onnxruntime-web', lines.join('\n'));
    assert.match(chosen.msg ?? '', /no native ONNX Runtime for arm/);
    const health = await fetch(`${apiUrl}/v1/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { deviceId: string }).deviceId, 'armv7-bundle');

    child.kill('SIGTERM');
    assert.equal(await new Promise((resolve) => child.once('exit', resolve)), 0, stderr);
  },
);
