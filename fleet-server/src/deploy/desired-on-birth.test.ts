import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { desiredOnBirth } from './desired-on-birth.js';

/** Records what was signed together; devices named `bad-*` make their batch fail. */
function recorder() {
  const batches: string[][] = [];
  const single: string[] = [];
  return {
    batches,
    single,
    async republish(ids: Iterable<string>) {
      const list = [...ids];
      if (list.some((id) => id.startsWith('bad-'))) throw new Error('state too large');
      batches.push(list);
      return list.length;
    },
    async publishDesired(id: string) {
      if (id.startsWith('bad-')) throw new Error('state too large');
      single.push(id);
    },
  };
}

async function settled(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

test('births arriving together are signed in batches of at most 200, each device once', async () => {
  const deployments = recorder();
  const onBirth = desiredOnBirth(deployments, pino({ level: 'silent' }));
  for (let i = 0; i < 450; i++) onBirth(`d-${i}`);
  onBirth('d-0'); // a second birth before the first was answered
  await settled(() => deployments.batches.flat().length === 450);
  assert.deepEqual(
    deployments.batches.map((b) => b.length),
    [200, 200, 50],
  );
  assert.equal(new Set(deployments.batches.flat()).size, 450);
});

test("a batch that fails is retried device by device: one device's problem does not hold the others back", async () => {
  const deployments = recorder();
  const onBirth = desiredOnBirth(deployments, pino({ level: 'silent' }));
  for (const id of ['a', 'bad-1', 'b']) onBirth(id);
  await settled(() => deployments.single.length === 2);
  assert.deepEqual(deployments.single, ['a', 'b']);
  assert.deepEqual(deployments.batches, []);
});
