/**
 * @module cli/edgeloop.test
 * Exercises the `edgeloop` CLI end to end: argument errors, server URL resolution, an unreachable
 * server, and a tiny real HTTP server standing in for the fleet server's REST API so the tests
 * see the exact multipart fields, JSON bodies and query strings the CLI sends.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { CliError } from './api-client.js';
import type { DeviceSummary, ModelVersionSummary, TelemetryRow } from '@edgeloop/protocol';
import { main, parseModelRef, resolveServerUrl } from './edgeloop.js';
import { formatRelativeTime, renderTable } from './format.js';

async function runCli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'edgeloop-cli-'));
}

describe('argument errors exit 2 with usage', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    ['missing command', [], /missing command/],
    ['unknown flag', ['devices', '--bogus'], /unknown option --bogus/],
    ['flag of another command', ['devices', '--name', 'x'], /--name is not an option of "edgeloop devices"/],
    ['unknown models subcommand', ['models', 'delete'], /unknown models command "delete"/],
    ['ref without version', ['deploy', 'distance', '--device', 'pi-1'], /expected <name>@<version>/],
    ['non-numeric version', ['deploy', 'distance@latest', '--device', 'pi-1'], /must be a positive integer/],
    ['zero version', ['deploy', 'distance@0', '--device', 'pi-1'], /must be a positive integer/],
    ['no --device', ['deploy', 'distance@3'], /at least one --device/],
    ['push without --name', ['models', 'push', 'model.onnx'], /needs --name/],
    ['bad --limit', ['telemetry', '--limit', '0'], /--limit must be a positive integer/],
  ];
  for (const [label, argv, message] of cases) {
    test(label, async () => {
      const result = await runCli(argv);
      assert.equal(result.code, 2);
      assert.match(result.err, /^error: /);
      assert.match(result.err, message);
      assert.match(result.err, /Usage: edgeloop <command>/);
      assert.equal(result.out, '');
    });
  }

  test('--help, -h and help print usage and exit 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const result = await runCli(argv);
      assert.equal(result.code, 0, argv.join(' '));
      assert.match(result.out, /Usage: edgeloop <command>/);
      assert.equal(result.err, '');
    }
  });

  test('parseModelRef splits at the last @', () => {
    assert.deepEqual(parseModelRef('distance@12'), { name: 'distance', version: 12 });
    assert.deepEqual(parseModelRef('@team/model@2'), { name: '@team/model', version: 2 });
    assert.throws(
      () => parseModelRef('distance@'),
      (error: unknown) => (error as CliError).exitCode === 2,
    );
  });
});

describe('resolveServerUrl', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir();
    await mkdir(join(dir, '.edgeloop'));
    await writeFile(
      join(dir, '.edgeloop', 'server.json'),
      JSON.stringify({ httpUrl: 'http://127.0.0.1:5555', mqttUrl: 'x' }),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('--server beats the environment and the server file', () => {
    const env = { EDGELOOP_SERVER: 'http://env.example:1' };
    assert.equal(resolveServerUrl({ server: 'http://flag.example:2/' }, env, dir), 'http://flag.example:2');
  });

  test('EDGELOOP_SERVER beats the server file', () => {
    assert.equal(resolveServerUrl({}, { EDGELOOP_SERVER: 'http://env.example:1' }, dir), 'http://env.example:1');
  });

  test('the server file beats the default; an empty env var counts as unset', () => {
    assert.equal(resolveServerUrl({}, { EDGELOOP_SERVER: '' }, dir), 'http://127.0.0.1:5555');
  });

  test('falls back to the default port without any configuration', async () => {
    const empty = await makeTempDir();
    try {
      assert.equal(resolveServerUrl({}, {}, empty), 'http://127.0.0.1:8460');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  test('a broken server file or URL is an operator error, not a crash', async () => {
    const broken = await makeTempDir();
    try {
      await mkdir(join(broken, '.edgeloop'));
      await writeFile(join(broken, '.edgeloop', 'server.json'), '{ nope');
      assert.throws(
        () => resolveServerUrl({}, {}, broken),
        (error: unknown) => {
          return error instanceof CliError && /server\.json is not valid JSON/.test(error.message);
        },
      );
      assert.throws(() => resolveServerUrl({ server: 'localhost:8460' }, {}, broken), /invalid server URL/);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});

test('an unreachable server exits 1 with a hint on how to start it', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));

  const url = `http://127.0.0.1:${port}`;
  const result = await runCli(['devices', '--server', url]);
  assert.equal(result.code, 1);
  assert.match(
    result.err,
    new RegExp(`^error: cannot reach the fleet server at ${url} \\(ECONNREFUSED\\)\\. Start it with "npm start"`),
  );
  assert.equal(result.err.split('\n').length, 1, 'one line, no stack trace');
});

interface RecordedRequest {
  method: string;
  url: string;
  contentType: string;
  body: Buffer;
}

const MODEL: ModelVersionSummary = {
  name: 'distance',
  version: 3,
  sha256: 'abcdef0123456789'.repeat(4),
  size: 5,
  createdAt: new Date(Date.now() - 90_000).toISOString(),
  expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  keyId: 'key-1234',
  inputs: [],
  outputs: [],
  preprocessing: { kind: 'none' },
  postprocessing: { kind: 'raw' },
  targets: { arch: [], hardware: [] },
  status: 'approved',
  statusReason: null,
  description: null,
  labels: {},
  metrics: {},
  lineage: { parent: 2 },
  hasTrainingSummary: false,
};

const DEVICE: DeviceSummary = {
  id: 'pi-1',
  online: true,
  lastSeen: Date.now() - 12_000,
  firstSeen: Date.now() - 3_600_000,
  session: 1,
  stream: 's1',
  agentVersion: '0.1.0',
  arch: 'arm64',
  platform: 'linux',
  hardware: null,
  runtime: null,
  models: [{ name: 'distance', version: 2, sha256: 'ff' }],
  assignments: [
    { model: 'distance', version: 3, state: 'rejected', code: 'rollback', reason: 'error rose', updatedAt: 0 },
  ],
  backlog: 4,
  dropped: 0,
  records: 120,
  group: null,
  tags: {},
  disabled: false,
  bytesSent: 0,
  shadows: [],
  openAlerts: 0,
};

const RECORD: TelemetryRow = {
  id: 1,
  deviceId: 'pi-1',
  stream: 's',
  seq: 1,
  ts: Date.now(),
  receivedAt: Date.now(),
  model: 'distance',
  version: 2,
  requestId: null,
  output: [1.23456],
  prediction: 1.23456,
  latencyMs: 3.25,
  features: {},
  reference: null,
  historical: false,
  shadow: false,
};

function parseMultipart(request: RecordedRequest): Promise<FormData> {
  // Undici parses multipart for us; the copy gives it the ArrayBuffer-backed view it requires.
  return new Response(new Uint8Array(request.body), { headers: { 'content-type': request.contentType } }).formData();
}

/** Just enough of the REST API to observe what the CLI sends; "taken"/"missing" trigger errors. */
function handleFakeApi(request: RecordedRequest, response: ServerResponse): Promise<void> | void {
  const send = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const path = request.url.split('?')[0];
  if (request.method === 'POST' && path === '/api/v1/models') {
    return parseMultipart(request).then((form) => {
      if (form.get('name') === 'taken') return send(409, { error: 'model taken v1 already exists' });
      send(201, { model: { ...MODEL, name: form.get('name'), version: Number(form.get('version') ?? 1) } });
    });
  }
  if (request.method === 'GET' && path === '/api/v1/models') return send(200, { models: [MODEL] });
  if (request.method === 'POST' && path === '/api/v1/deployments') {
    const body = JSON.parse(request.body.toString('utf8')) as { model: string };
    if (body.model === 'missing') return send(404, { error: 'no model missing v1' });
    return send(200, { deployment: body });
  }
  if (request.method === 'GET' && path === '/api/v1/devices')
    return send(200, { devices: [DEVICE], total: 1, nextCursor: null });
  if (request.method === 'GET' && path === '/api/v1/telemetry') return send(200, { records: [RECORD] });
  send(404, { error: 'not found' });
}

describe('against a real HTTP server', () => {
  const requests: RecordedRequest[] = [];
  let server: ReturnType<typeof createServer>;
  let url: string;
  let dir: string;

  before(async () => {
    dir = await makeTempDir();
    server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const recorded = {
          method: incoming.method ?? '',
          url: incoming.url ?? '',
          contentType: incoming.headers['content-type'] ?? '',
          body: Buffer.concat(chunks),
        };
        requests.push(recorded);
        void handleFakeApi(recorded, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  const lastRequest = () => requests.at(-1) as RecordedRequest;

  test('models push sends file, name, version and metadata as multipart', async () => {
    const modelPath = join(dir, 'distance.onnx');
    const metaPath = join(dir, 'meta.json');
    await writeFile(modelPath, Buffer.from([1, 2, 3, 4, 5]));
    await writeFile(metaPath, '{"postprocessing": {"kind": "raw"}}');

    const result = await runCli([
      'models',
      'push',
      modelPath,
      '--name',
      'distance',
      '--version',
      '3',
      '--meta',
      metaPath,
      '--server',
      url,
    ]);
    assert.equal(result.err, '');
    assert.equal(result.code, 0);
    assert.equal(
      result.out,
      `uploading ${modelPath} (5 bytes)…\nregistered distance v3 sha256 abcdef012345 (5 bytes), signed by key key-1234`,
    );

    const form = await parseMultipart(lastRequest());
    const file = form.get('file') as File;
    assert.equal(file.name, 'distance.onnx');
    assert.deepEqual([...new Uint8Array(await file.arrayBuffer())], [1, 2, 3, 4, 5]);
    assert.equal(form.get('name'), 'distance');
    assert.equal(form.get('version'), '3');
    assert.equal(form.get('metadata'), '{"postprocessing": {"kind": "raw"}}');
  });

  test('models push reports a conflict as "error: <reason> (HTTP 409)"', async () => {
    const modelPath = join(dir, 'taken.onnx');
    await writeFile(modelPath, 'onnx');
    const result = await runCli(['models', 'push', modelPath, '--name', 'taken', '--server', url]);
    assert.equal(result.code, 1);
    assert.equal(result.err, 'error: model taken v1 already exists (HTTP 409)');
    assert.equal(lastRequest().contentType.startsWith('multipart/form-data'), true);
  });

  test('models push rejects missing, empty and badly described files before uploading', async () => {
    const before = requests.length;
    const missing = await runCli(['models', 'push', join(dir, 'nope.onnx'), '--name', 'x', '--server', url]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^error: cannot read model file .*nope\.onnx \(no such file\)/);

    const emptyPath = join(dir, 'empty.onnx');
    await writeFile(emptyPath, '');
    const empty = await runCli(['models', 'push', emptyPath, '--name', 'x', '--server', url]);
    assert.equal(empty.code, 1);
    assert.match(empty.err, /is empty/);

    const modelPath = join(dir, 'ok.onnx');
    const badMeta = join(dir, 'bad.json');
    await writeFile(modelPath, 'onnx');
    await writeFile(badMeta, '{ "name": ');
    const invalid = await runCli(['models', 'push', modelPath, '--name', 'x', '--meta', badMeta, '--server', url]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.err, /^error: metadata file .*bad\.json is not valid JSON: .+/);
    assert.equal(requests.length, before, 'nothing reached the server');
  });

  test('models list prints a table', async () => {
    const result = await runCli(['models', 'list', '--server', url]);
    assert.equal(result.code, 0);
    const [header, row] = result.out.split('\n');
    assert.match(header ?? '', /^NAME\s+VERSION\s+STATUS\s+SHA256\s+SIZE\s+CREATED\s+PARENT$/);
    assert.match(row ?? '', /^distance\s+3\s+approved\s+abcdef012345\s+5 B\s+1m ago\s+v2$/);
  });

  test('deploy posts the JSON body and prints the assignment', async () => {
    const result = await runCli(['deploy', 'distance@3', '--device', 'pi-1', '--device', 'pi-2', '--server', url]);
    assert.equal(result.code, 0);
    assert.equal(lastRequest().method, 'POST');
    assert.match(lastRequest().contentType, /^application\/json/);
    assert.deepEqual(JSON.parse(lastRequest().body.toString('utf8')), {
      model: 'distance',
      version: 3,
      devices: ['pi-1', 'pi-2'],
    });
    assert.equal(result.out, 'assigned distance v3 to 2 device(s): pi-1, pi-2\nwatch it with: edgeloop devices');
  });

  test('deploy of an unknown model shows the server reason', async () => {
    const result = await runCli(['deploy', 'missing@1', '--device', 'pi-1', '--server', url]);
    assert.equal(result.code, 1);
    assert.equal(result.err, 'error: no model missing v1 (HTTP 404)');
  });

  test('devices shows running models and assignment state', async () => {
    const result = await runCli(['devices', '--server', url]);
    assert.equal(result.code, 0);
    const [header, row] = result.out.split('\n');
    assert.match(header ?? '', /^DEVICE\s+ONLINE\s+LAST SEEN\s+MODELS\s+ASSIGNED\s+BACKLOG\s+DROPPED\s+RECORDS$/);
    assert.match(row ?? '', /^pi-1\s+yes\s+1[0-9]s ago\s+distance v2\s+distance v3 rejected: rollback\s+4\s+0\s+120$/);
  });

  test('devices passes its filters and limit as query parameters', async () => {
    const result = await runCli(['devices', '--online', '--model', 'distance@3', '--limit', '50', '--server', url]);
    assert.equal(result.code, 0);
    assert.equal(lastRequest().url, '/api/v1/devices?online=true&limit=50&model=distance&version=3');
    await runCli(['devices', '--offline', '--model', 'distance', '--server', url]);
    assert.equal(lastRequest().url, '/api/v1/devices?online=false&model=distance');
    const both = await runCli(['devices', '--online', '--offline', '--server', url]);
    assert.equal(both.code, 2);
    assert.match(both.err, /--online and --offline exclude each other/);
    const big = await runCli(['devices', '--limit', '501', '--server', url]);
    assert.equal(big.code, 2);
    assert.match(big.err, /--limit is at most 500/);
  });

  test('telemetry passes filters as query parameters, limit 20 by default', async () => {
    const filtered = await runCli([
      'telemetry',
      '--device',
      'pi-1',
      '--model',
      'distance',
      '--limit',
      '5',
      '--server',
      url,
    ]);
    assert.equal(filtered.code, 0);
    assert.equal(lastRequest().url, '/api/v1/telemetry?device=pi-1&model=distance&limit=5');
    assert.match(filtered.out.split('\n')[1] ?? '', /\s+pi-1\s+distance\s+2\s+1\.235\s+-\s+-\s+3\.3$/);

    await runCli(['telemetry', '--server', url]);
    assert.equal(lastRequest().url, '/api/v1/telemetry?limit=20');
  });

  test('--json prints the raw response', async () => {
    const result = await runCli(['--json', 'devices', '--server', url]);
    assert.equal(result.code, 0);
    assert.deepEqual(JSON.parse(result.out), { devices: [DEVICE], total: 1, nextCursor: null });
  });
});

describe('format', () => {
  test('formatRelativeTime', () => {
    const now = 1_000_000_000;
    assert.equal(formatRelativeTime(now - 12_000, now), '12s ago');
    assert.equal(formatRelativeTime(now - 5 * 60_000, now), '5m ago');
    assert.equal(formatRelativeTime(now - 3 * 3_600_000, now), '3h ago');
    assert.equal(formatRelativeTime(now - 3 * 86_400_000, now), '3d ago');
    assert.equal(formatRelativeTime(now + 4_000, now), 'in 4s');
    assert.equal(formatRelativeTime(null, now), 'never');
  });

  test('renderTable pads columns and trims trailing space', () => {
    assert.equal(
      renderTable(
        ['A', 'LONG'],
        [
          ['xyz', ''],
          ['1', '2'],
        ],
      ),
      'A    LONG\nxyz\n1    2',
    );
  });
});

test('the bin shim runs the CLI', async () => {
  const shim = fileURLToPath(new URL('../../bin/edgeloop.js', import.meta.url));
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [shim, ...args], (error, stdout) => {
        resolve({ code: error ? Number(error.code) : 0, stdout });
      });
    });
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: edgeloop <command>/);
  assert.equal((await run(['frobnicate'])).code, 2);
});
