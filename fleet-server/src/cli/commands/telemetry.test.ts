/**
 * `edgeloop samples capture` against a real fleet server: the window lands in the device's
 * desired state (with an upload window covering it), bad flags are refused before any request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildReferenceModel } from '@edgeloop/models';
import { desiredStateSchema } from '@edgeloop/protocol';
import { startFleetServer } from '../../server.js';
import { main } from '../edgeloop.js';

const TOKEN = 'samples-cli-test-admin-token';

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test("samples capture opens a capture window in the device's desired state", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-samples-cli-'));
  const server = await startFleetServer(
    {
      dataDir: dir,
      http: { port: 0 },
      mqtt: { mode: 'embedded', port: 0 },
      adminToken: TOKEN,
      validateResponses: true,
    },
    pino({ level: 'silent' }),
  );
  const saved = process.env.EDGELOOP_TOKEN;
  process.env.EDGELOOP_TOKEN = TOKEN;
  t.after(async () => {
    process.env.EDGELOOP_TOKEN = saved;
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await server.store.devices.recordBirth({
    v: 1,
    type: 'birth',
    deviceId: 'cam-1',
    session: 1,
    ts: Date.now(),
    agentVersion: 't',
    arch: 'x64',
    platform: 'linux',
    cpus: 1,
    memTotalMb: 1,
    runtime: { name: 't', version: '0' },
    models: [],
    stream: 's',
    backlog: 0,
  });
  await server.registry.register({ name: 'distance', bytes: buildReferenceModel({ seed: 1 }) });
  const s = ['--server', server.httpUrl];

  assert.equal((await server.deployments.desiredState('cam-1'))!.sampleCapture, undefined);
  const before = Date.now();
  const ok = await cli([
    'samples',
    'capture',
    '--device',
    'cam-1',
    '--model',
    'distance',
    '--minutes',
    '10',
    '--every-n',
    '5',
    ...s,
  ]);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /asked cam-1 to keep inputs of distance \(one in 5\) until .* sampling\.captureOnRequest/);
  const desired = (await server.deployments.desiredState('cam-1'))!;
  assert.equal(desired.sampleCapture?.everyN, 5);
  assert.deepEqual(desired.sampleCapture?.models, ['distance']);
  assert.ok(
    desired.sampleCapture!.until >= before + 10 * 60_000 && desired.sampleCapture!.until <= Date.now() + 10 * 60_000,
  );
  assert.ok(desired.sampleUploadUntil! > desired.sampleCapture!.until, 'the upload window covers the capture window');

  const stop = await cli(['samples', 'capture', '--device', 'cam-1', '--stop', ...s]);
  assert.equal(stop.code, 0, stop.err);
  assert.match(stop.out, /closed the capture window of cam-1/);
  assert.equal((await server.deployments.desiredState('cam-1'))!.sampleCapture, undefined);
  assert.match(
    (await cli(['samples', 'capture', '--device', 'cam-1', '--stop', ...s])).out,
    /had no open capture window/,
  );

  const usage = await cli(['samples', 'capture', '--minutes', '10', ...s]);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /needs exactly one --device/);
  const badN = await cli(['samples', 'capture', '--device', 'cam-1', '--every-n', 'often', ...s]);
  assert.equal(badN.code, 2);
  assert.match(badN.err, /--every-n/);
  const unknown = await cli(['samples', 'capture', '--device', 'nope', ...s]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.err, /no device "nope"/);
  const typo = await cli(['samples', 'capture', '--device', 'cam-1', '--model', 'distnace', ...s]);
  assert.notEqual(typo.code, 0);
  assert.match(typo.err, /no model named "distnace" is registered/);

  // Straight at the API: a fractional number of minutes still makes a desired state devices accept,
  // and a body that is not JSON is refused instead of read as "the defaults".
  const post = (path: string, body: string) =>
    fetch(`${server.httpUrl}/api/v1/devices/cam-1/samples/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body,
    });
  assert.equal((await post('capture', '{"minutes": 1.00001}')).status, 200);
  assert.equal((await post('request', '{"minutes": 2.5}')).status, 200);
  assert.ok(desiredStateSchema.safeParse(await server.deployments.desiredState('cam-1')).success);
  const broken = await post('capture', '{"minutes": 5');
  assert.equal(broken.status, 400);
  assert.match(((await broken.json()) as { error: string }).error, /not valid JSON/);
});
