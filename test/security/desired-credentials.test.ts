/**
 * The device's credentials leave it only for the fleet's own HTTP origin (fleet.httpUrl, written
 * at enrollment). A foreign HTTP server run by the test records every request it gets; desired
 * states point a new model version at it:
 *
 * - unsigned (an attacker on the broker): refused whole, nothing fetched;
 * - signed by the fleet itself (a wrong publicUrl, or a signer an attacker got to): the version
 *   is refused with `foreign-origin` before any request;
 * - to a device whose config predates fleet.httpUrl: its credentials go to no HTTP server at all
 *   (it fetches over the fleet link instead).
 *
 * In every case the foreign server sees no request carrying credentials (in fact none at all),
 * and the device keeps serving its model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deviceTopic, encodeMessage } from '@edgeloop/protocol';
import { sample, waitFor } from '../support/fixtures.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { desiredRefusals, events, inject, metadata, reported, servingVersion } from './signing-support.js';

const DEVICE = 'sec-cred-pi';
const LEGACY = 'sec-cred-legacy-pi';

test('artifact URLs on a foreign host never get the device credentials', { timeout: 120_000 }, async (t) => {
  const requests: IncomingHttpHeaders[] = [];
  const foreign = createServer((req, res) => {
    requests.push(req.headers);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"nothing here"}');
  });
  await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
  t.after(() => foreign.close());
  const foreignBase = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;

  const fleet = await startTestFleet();
  t.after(() => fleet.close());
  const { server } = fleet;
  const agent = await fleet.startAgent(DEVICE);
  await fleet.deploySample(DEVICE);
  const v2 = await server.registry.register({ name: 'distance', bytes: sample.v2, metadata });
  const foreignUrl = `${foreignBase}/api/v1/artifacts/${v2.sha256}`;

  await t.test('an unsigned desired state naming a foreign host is not acted on', async () => {
    const before = await desiredRefusals(agent, 'unsigned');
    await server.publish(
      deviceTopic(DEVICE, 'desired'),
      encodeMessage({
        v: 1,
        deviceId: DEVICE,
        issuedAt: Date.now(),
        models: [{ manifest: v2.envelope, artifactUrl: foreignUrl }],
      }),
    );
    await waitFor('refused', async () => (await desiredRefusals(agent, 'unsigned')) > before || undefined);
    assert.equal(requests.length, 0);
    assert.equal(await servingVersion(agent), 1);
  });

  await t.test(
    'a fleet-signed desired state naming a foreign host: refused as foreign-origin, nothing fetched',
    async () => {
      await inject(server, DEVICE, [{ manifest: v2.envelope, artifactUrl: foreignUrl }]);
      const refused = await reported(server, DEVICE, 2, 'rejected');
      assert.equal(requests.filter((h) => h.authorization).length, 0, 'no request with credentials');
      assert.equal(requests.length, 0, 'in fact no request at all');
      assert.equal(refused.code, 'foreign-origin');
      assert.match(refused.reason ?? '', /not on the fleet's origin/);
      assert.equal(await servingVersion(agent), 1);
    },
  );

  await t.test('a device enrolled before fleet.httpUrl existed sends its credentials to no HTTP server', async () => {
    const legacy = await fleet.startAgent(LEGACY, {
      fleet: {
        mqttUrl: server.mqttUrl,
        trustedKeys: [server.publicKey],
        ...(await fleet.enroll(LEGACY)),
        httpUrl: undefined,
      },
    });
    // The fleet's own artifact still arrives: over the fleet link.
    await fleet.deploySample(LEGACY);
    assert.equal(await servingVersion(legacy), 1);
    await inject(server, LEGACY, [{ manifest: v2.envelope, artifactUrl: foreignUrl }]);
    await waitFor('v2 given up', async () =>
      (await events(server, LEGACY)).find((e) => e.version === 2 && ['rejected', 'failed'].includes(e.state)),
    );
    assert.equal(requests.filter((h) => h.authorization).length, 0, 'no request with credentials');
    assert.equal(requests.length, 0, 'in fact no request at all');
    assert.equal(await servingVersion(legacy), 1);
  });
});
