/**
 * @module bench/datasets
 * datasets.create_2000_s: seconds for POST /api/v1/datasets to snapshot 2,000 uploaded samples
 * (8 KiB frames, reference values joined); datasets.export_2000_s and datasets.import_2000_s:
 * seconds for `edgeloop datasets export` / `import` of that snapshot over REST (one request per
 * image, as an operator runs them), the import into a second, empty fleet server. Baseline of
 * both transfers: copying the same folder with fs.cp on this machine.
 *
 * Env: EDGELOOP_BENCH_DATASET_ITEMS (default 2000).
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createRestClient } from '@edgeloop/protocol/client';
import { startFleetServer } from '@edgeloop/fleet-server';
import { main } from '@edgeloop/fleet-server/cli';
import type { Bench } from './figure.js';

const ITEMS = Number(process.env.EDGELOOP_BENCH_DATASET_ITEMS ?? 2000);

async function cli(server: string, token: string, ...argv: string[]): Promise<void> {
  const saved = process.env.EDGELOOP_TOKEN;
  process.env.EDGELOOP_TOKEN = token;
  const err: string[] = [];
  try {
    const code = await main([...argv, '--server', server, '--json'], { out: () => undefined, err: (x) => err.push(x) });
    if (code !== 0) throw new Error(`edgeloop ${argv.join(' ')} failed: ${err.join('\n')}`);
  } finally {
    if (saved === undefined) delete process.env.EDGELOOP_TOKEN;
    else process.env.EDGELOOP_TOKEN = saved;
  }
}

export const datasetsBench: Bench = {
  name: 'datasets.create_2000_s',
  async run(progress) {
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-bench-datasets-'));
    const log = pino({ level: 'silent' });
    const config = (name: string) => ({
      dataDir: join(dir, name),
      http: { port: 0 },
      mqtt: { mode: 'embedded' as const, port: 0 },
    });
    const a = await startFleetServer(config('a'), log);
    const b = await startFleetServer(config('b'), log);
    try {
      const client = createRestClient({ baseUrl: a.httpUrl, headers: { authorization: `Bearer ${a.adminToken}` } });
      progress(`uploading ${ITEMS} samples`);
      for (let seq = 1; seq <= ITEMS; seq++) {
        const bytes = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(8 * 1024 - 4)]);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        await client.uploadDatasetBlob({ params: { sha256 }, body: { file: new File([new Uint8Array(bytes)], 'f') } });
        await a.store.samples.insert({
          ...{ deviceId: `sim-${seq % 4}`, stream: 's1', seq, model: 'distance', version: 1, ts: seq * 250 },
          ...{ reason: 'capture', prediction: 100, reference: seq % 250, contentType: 'image/jpeg', sha256 },
          ...{ bytes: bytes.length, receivedAt: seq * 250 },
        });
      }
      progress('creating the snapshot');
      let t0 = performance.now();
      const { dataset } = await client.createDataset({ body: { selection: { model: 'distance' } } });
      const createS = (performance.now() - t0) / 1000;
      if (dataset.counts.total !== ITEMS) throw new Error(`snapshot has ${dataset.counts.total} items, not ${ITEMS}`);

      progress('exporting over REST');
      const out = join(dir, 'export');
      t0 = performance.now();
      await cli(a.httpUrl, a.adminToken!, 'datasets', 'export', dataset.id, out);
      const exportS = (performance.now() - t0) / 1000;
      t0 = performance.now();
      cpSync(out, join(dir, 'copy'), { recursive: true });
      const copyS = (performance.now() - t0) / 1000;

      progress('importing into a second server');
      t0 = performance.now();
      await cli(b.httpUrl, b.adminToken!, 'datasets', 'import', out);
      const importS = (performance.now() - t0) / 1000;
      const imported = await b.datasets.get(dataset.id);
      if (!imported) throw new Error('the import did not reproduce the snapshot id');

      const note = `${ITEMS} items of 8 KiB`;
      return [
        { name: 'datasets.create_2000_s', value: createS, unit: 's', baseline: null, note },
        { name: 'datasets.export_2000_s', value: exportS, unit: 's', baseline: copyS, note: `${note}; baseline fs.cp` },
        { name: 'datasets.import_2000_s', value: importS, unit: 's', baseline: copyS, note: `${note}; baseline fs.cp` },
      ];
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
