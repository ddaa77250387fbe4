import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loopPolicySchema } from './loop.js';
import { sweepSchema } from './training.js';

test('a loop policy with its defaults applied is itself a valid policy, with a sweep a training job takes', () => {
  const policy = loopPolicySchema.parse({ model: 'distance' });
  assert.deepEqual(loopPolicySchema.parse(policy), policy, 'what the server stores and answers parses again');
  assert.deepEqual(policy.training.sweep, { base: {} });
  assert.ok(sweepSchema.safeParse(policy.training.sweep).success);
});
