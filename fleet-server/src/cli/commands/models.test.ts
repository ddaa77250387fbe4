import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { startFleetServer } from '../../server.js';
import { main } from '../edgeloop.js';

test('models show prints metadata and the lineage chain; approve, deprecate and revoke change the status', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-cli-models-'));
  const s = await startFleetServer(
    { dataDir: join(dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded', port: 0 }, validateResponses: true },
    pino({ level: 'silent' }),
  );
  const savedToken = process.env.EDGELOOP_TOKEN;
  process.env.EDGELOOP_TOKEN = s.adminToken;
  t.after(async () => {
    if (savedToken === undefined) delete process.env.EDGELOOP_TOKEN;
    else process.env.EDGELOOP_TOKEN = savedToken;
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main([...argv, '--server', s.httpUrl], { out: (x) => out.push(x), err: (x) => err.push(x) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  await s.registry.register({
    name: 'distance',
    bytes: readFileSync(SAMPLE_MODELS.v1),
    metadata: { lineage: { trigger: 'manual', notes: 'first field data' } },
  });
  await s.registry.register({
    name: 'distance',
    bytes: readFileSync(SAMPLE_MODELS.v2),
    metadata: {
      description: 'winter retrain',
      labels: { site: 'garage' },
      metrics: { mae_mm: 9.5 },
      lineage: { parent: 1, trigger: 'drift' },
    },
  });

  const shown = await cli('models', 'show', 'distance');
  assert.equal(shown.code, 0, shown.err);
  assert.match(shown.out, /^distance v2 {2}registered/);
  assert.match(shown.out, /description {2}winter retrain/);
  assert.match(shown.out, /metrics {6}mae_mm=9.5/);
  assert.match(shown.out, /• v2 registered — trigger drift\n {4}↳ v1 registered — trigger manual, "first field data"/);

  assert.match((await cli('models', 'approve', 'distance@2')).out, /distance v2 is now approved/);
  assert.match(
    (await cli('models', 'deprecate', 'distance@1', '--reason', 'old')).out,
    /distance v1 is now deprecated \(old\)/,
  );
  const revoked = await cli('models', 'revoke', 'distance@1', '--reason', 'bad labels');
  assert.match(revoked.out, /now revoked \(bad labels\)\nit was not assigned to any device/);
  const again = await cli('models', 'approve', 'distance@1');
  assert.equal(again.code, 1);
  assert.match(again.err, /revoked, which is final/);
  const list = await cli('models', 'list');
  assert.match(list.out, /distance\s+2\s+approved.*v1\n.*distance\s+1\s+revoked/);
});
