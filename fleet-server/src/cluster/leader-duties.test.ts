import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { SoleLeader } from '../store/leader-lease.js';
import { runWhileLeader } from './leader-duties.js';

test('duties start in order on leadership and stop in reverse when it ends; a failing one does not hold up the rest', async () => {
  const lease = new SoleLeader();
  const events: string[] = [];
  const duty = (name: string, fail = false) => ({
    name,
    start: () => {
      if (fail) throw new Error('broken');
      events.push(`start ${name}`);
    },
    stop: async () => {
      events.push(`stop ${name}`);
    },
  });
  runWhileLeader(lease, [duty('presence'), duty('broken', true), duty('rollouts')], pino({ level: 'silent' }));
  assert.deepEqual(events, [], 'nothing runs before the lease is held');
  await lease.start();
  assert.equal(lease.leader, true, 'a store one process owns always leads');
  assert.deepEqual(events, ['start presence', 'start rollouts']);
  await lease.close();
  assert.deepEqual(
    events,
    ['start presence', 'start rollouts', 'stop rollouts', 'stop presence'],
    'only what started is stopped',
  );
});
