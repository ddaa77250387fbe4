import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { generateKeyPair, signKeyset, buildKeyset, type KeysResponse, type RotateResponse } from '@edgeloop/protocol';
import { startFleetServer } from '../server.js';

test('keys API: a local root rotates in one call; the health endpoint names the root devices trust', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-keyroutes-'));
  const s = await startFleetServer(
    { dataDir: join(dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded', port: 0 }, validateResponses: true },
    pino({ level: 'silent' }),
  );
  t.after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${s.httpUrl}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${s.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  await s.registry.register({ name: 'distance', bytes: readFileSync(SAMPLE_MODELS.v1) });

  const health = (await call('GET', '/health')).body;
  const before = (await call('GET', '/keys')).body as unknown as KeysResponse;
  assert.equal(health.publicKey, before.root.publicKey);
  assert.equal(health.rootKeyId, before.root.keyId);
  assert.equal(health.signingKeyId, before.signingKey?.keyId);
  assert.equal(before.keyset?.version, 1);
  assert.equal(before.root.local, true);

  const rotated = await call('POST', '/keys/rotate');
  assert.equal(rotated.status, 200);
  const result = rotated.body as unknown as RotateResponse;
  assert.equal(result.state, 'done');
  assert.equal(result.keyset?.version, 2);
  assert.equal(result.resigned, 1);
  const after = (await call('GET', '/keys')).body as unknown as KeysResponse;
  assert.notEqual(after.signingKey?.keyId, before.signingKey?.keyId);
  assert.deepEqual(
    after.retired.map((r) => r.keyId),
    [before.signingKey?.keyId],
  );
  assert.equal((await s.models.get('distance', 1))?.keyId, after.signingKey?.keyId);
  assert.ok((await s.audit.list({ action: 'key.rotate' })).length >= 1);

  // Nothing pending: an uploaded keyset is refused with what to do.
  const stray = await call('POST', '/keys/keyset', {
    envelope: signKeyset(buildKeyset(3, [generateKeyPair().publicKey]), generateKeyPair()),
  });
  assert.equal(stray.status, 409);
  assert.match(String(stray.body.error), /no key rotation is pending/);
  assert.equal((await call('POST', '/keys/keyset', { nope: 1 })).status, 400);
});
