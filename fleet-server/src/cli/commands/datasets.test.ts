import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { createRestClient } from '@edgeloop/protocol/client';
import { startFleetServer } from '../../server.js';
import { main } from '../edgeloop.js';
import { createRequest, parseSplit, parseTime } from './datasets.js';
import { UsageError } from '../command.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const frame = (n: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(`frame-${n}`)]);

test('create flags become the selection; bad splits and times are usage errors', () => {
  assert.deepEqual(
    createRequest({
      model: 'distance',
      version: '2',
      device: ['pi-1', 'pi-2'],
      group: 'garage',
      from: '2026-03-01T00:00:00Z',
      to: '1772400000000',
      reason: 'capture, uncertain',
      include: ['ds-0'],
      limit: '100',
      split: '70/20/10',
      name: 'n',
    }),
    {
      selection: {
        model: 'distance',
        version: 2,
        devices: ['pi-1', 'pi-2'],
        group: 'garage',
        from: Date.parse('2026-03-01T00:00:00Z'),
        to: 1772400000000,
        reasons: ['capture', 'uncertain'],
        include: ['ds-0'],
        limit: 100,
      },
      name: 'n',
      splitRatios: { train: 70, validation: 20, holdout: 10 },
    },
  );
  assert.deepEqual(createRequest({}), { selection: {} });
  assert.throws(() => parseSplit('50/50/10'), UsageError);
  assert.throws(() => parseSplit('80-10-10'), /e\.g\. 80\/10\/10/);
  assert.throws(() => parseTime('yesterday', '--from'), /--from must be a date/);
});

test('datasets create, list, show, export (with progress), import back and from a csv folder, delete refused while named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-cli-datasets-'));
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
  const client = createRestClient({ baseUrl: s.httpUrl, headers: { authorization: `Bearer ${s.adminToken}` } });
  for (let seq = 1; seq <= 6; seq++) {
    const bytes = frame(seq);
    await client.uploadDatasetBlob({
      params: { sha256: sha(bytes) },
      body: { file: new File([new Uint8Array(bytes)], 'f') },
    });
    await s.store.samples.insert({
      ...{ deviceId: 'pi-1', stream: 's1', seq, model: 'distance', version: 1, ts: seq * 1000, reason: 'capture' },
      ...{ prediction: null, reference: seq === 6 ? null : seq * 10, contentType: 'image/jpeg' },
      ...{ sha256: sha(bytes), bytes: bytes.length, receivedAt: 1 },
    });
  }

  const empty = await cli('datasets', 'list');
  assert.match(empty.out, /no datasets yet; make one from uploaded samples with: edgeloop datasets create/);
  const created = await cli('datasets', 'create', '--model', 'distance', '--name', 'garage');
  assert.equal(created.code, 0, created.err);
  assert.match(
    created.out,
    /^created dataset (ds-[0-9a-f]{24}): 5 items \(train\/validation\/holdout \d+\/\d+\/\d+\), labels 10…50, from 1 source\nskipped: 1 without a reference$/,
  );
  const id = /ds-[0-9a-f]{24}/.exec(created.out)![0];
  assert.match(
    (await cli('datasets', 'create', '--model', 'distance')).out,
    /the same content is dataset ds-\w+ already/,
  );
  const nothing = await cli('datasets', 'create', '--model', 'other');
  assert.equal(nothing.code, 1);
  assert.match(nothing.err, /the selection gives no items.*widen the selection/);
  assert.equal((await cli('datasets', 'create', '--split', '1/2/3')).code, 2);

  assert.match((await cli('datasets', 'list')).out, new RegExp(`ID\\s+NAME\\s+ITEMS.*\\n${id}\\s+garage\\s+5\\s`));
  const shown = await cli('datasets', 'show', id);
  assert.match(shown.out, /items {8}5: train \d+/);
  assert.match(shown.out, /used by {6}no model version/);
  assert.match(shown.out, /sources\n {4}pi-1 {2}5 items, /);

  const out = join(dir, 'export');
  const exported = await cli('datasets', 'export', id, out);
  assert.equal(exported.code, 0, exported.err);
  assert.match(exported.out, /downloaded 5\/5\nexported ds-\w+ \(5 items\) to /);
  assert.deepEqual(readdirSync(out).sort(), ['images', 'labels.csv', 'labels.jsonl', 'manifest.json']);
  assert.equal(readdirSync(join(out, 'images')).length, 5);
  assert.equal(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).id, id);
  const notEmpty = await cli('datasets', 'export', id, out);
  assert.equal(notEmpty.code, 1);
  assert.match(notEmpty.err, /is not empty; give a new or empty folder/);

  const back = await cli('datasets', 'import', out);
  assert.equal(back.code, 0, back.err);
  assert.match(
    back.out,
    /checked 5\/5\n5 of 5 images are on the server already\nthe same content is dataset (ds-\w+) already/,
  );
  assert.doesNotMatch(back.out, /uploaded/);
  assert.ok(back.out.includes(id));

  const csv = join(dir, 'csv');
  mkdirSync(csv);
  writeFileSync(join(csv, 'a.jpg'), frame(100));
  writeFileSync(join(csv, 'b.jpg'), frame(101));
  writeFileSync(join(csv, 'labels.csv'), 'file,label\na.jpg,1.5\nb.jpg,2.5\n');
  const fromCsv = await cli('datasets', 'import', csv, '--name', 'phone');
  assert.equal(fromCsv.code, 0, fromCsv.err);
  assert.match(fromCsv.out, /uploaded 2\/2\nimported dataset ds-\w+: 2 items/);

  writeFileSync(join(csv, 'labels.csv'), 'file,label\na.jpg,1.5\nmissing.jpg,2.5\nb.jpg,high\n');
  const bad = await cli('datasets', 'import', csv);
  assert.equal(bad.code, 1);
  assert.match(
    bad.err,
    /cannot be imported, 2 problems: labels\.csv line 3: image missing\.jpg is missing; labels\.csv line 4: label/,
  );

  await s.registry.register({
    name: 'distance',
    bytes: readFileSync(SAMPLE_MODELS.v1),
    metadata: { lineage: { datasetId: id, trigger: 'manual' } },
  });
  assert.match((await cli('datasets', 'show', id)).out, /used by {6}distance@1/);
  const refused = await cli('datasets', 'delete', id);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /is the training data of distance@1/);
  const phone = /ds-[0-9a-f]{24}/.exec(fromCsv.out)![0];
  assert.match((await cli('datasets', 'delete', phone)).out, /deleted dataset ds-\w+/);
  assert.equal((await cli('datasets', 'show', phone)).code, 1);
  assert.deepEqual(s.contractViolations, []);
});
