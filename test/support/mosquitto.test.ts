import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectOrThrow, freePort, startMosquitto, which } from './mosquitto.js';

const missing = !(await which('mosquitto'));
if (missing)
  console.warn('\n*** mosquitto is not installed: the test broker tests are SKIPPED (apt-get install mosquitto)\n');

test('a test broker whose port was taken meanwhile starts on another one', { skip: missing }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-mosquitto-port-'));
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    squatter.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const taken = (squatter.address() as { port: number }).port;
  const handedOut: number[] = [];
  const broker = await startMosquitto(dir, {
    choosePort: async () => {
      const port = handedOut.length === 0 ? taken : await freePort();
      handedOut.push(port);
      return port;
    },
  });
  t.after(() => broker.stop());
  assert.equal(handedOut.length, 2, 'one retry after the taken port');
  assert.equal(broker.port, handedOut[1]);
  const client = await connectOrThrow(broker.url);
  await client.endAsync();
});
