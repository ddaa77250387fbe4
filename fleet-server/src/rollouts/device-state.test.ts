/** The per-device state machine, derived from assignment rows, presence and the clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveDeviceState, type DeviceFacts } from './device-state.js';

const p = { deviceTimeoutMs: 1000, healthyAfterMs: 500 };
const facts = (f: Partial<DeviceFacts>): DeviceFacts => ({
  stored: 'assigned',
  assignedAt: 0,
  activeSince: undefined,
  assignment: undefined,
  online: true,
  ...f,
});
const a = (state: string, version = 2, code: string | null = null, reason: string | null = null) => ({
  version,
  state,
  code,
  reason,
});

test('agent reports move the device through assigned → downloading → verified → active → healthy', () => {
  assert.equal(deriveDeviceState(facts({ assignment: a('assigned') }), 2, 10, p).state, 'assigned');
  assert.equal(deriveDeviceState(facts({ assignment: a('downloading') }), 2, 10, p).state, 'downloading');
  assert.equal(deriveDeviceState(facts({ assignment: a('verified') }), 2, 10, p).state, 'verified');
  assert.equal(deriveDeviceState(facts({ assignment: a('active') }), 2, 10, p).state, 'active');
  assert.equal(
    deriveDeviceState(facts({ stored: 'active', activeSince: 10, assignment: a('active') }), 2, 600, p).state,
    'healthy',
  );
  assert.equal(
    deriveDeviceState(facts({ stored: 'healthy', activeSince: 10, assignment: a('active'), online: false }), 2, 600, p)
      .state,
    'active',
    'healthy needs the device online',
  );
});

test('failures carry the agent code and reason; slow devices time out until they report again', () => {
  const f = deriveDeviceState(
    facts({ assignment: a('failed', 2, 'health-check-failed', 'output distance off by 40') }),
    2,
    10,
    p,
  );
  assert.deepEqual(f, { state: 'failed', reason: 'health-check-failed: output distance off by 40' });
  assert.equal(deriveDeviceState(facts({ assignment: a('rejected', 2, 'bad-signature') }), 2, 10, p).state, 'rejected');
  const slow = deriveDeviceState(facts({ assignment: a('downloading') }), 2, 1001, p);
  assert.equal(slow.state, 'timed-out');
  assert.match(slow.reason!, /still downloading/);
  assert.equal(deriveDeviceState(facts({ stored: 'timed-out', assignment: a('active') }), 2, 5000, p).state, 'active');
});

test('engine-owned states stay; reassignment outside the rollout skips the device', () => {
  for (const stored of ['pending', 'skipped', 'rolled-back'] as const) {
    assert.equal(deriveDeviceState(facts({ stored, assignment: a('active') }), 2, 10, p).state, stored);
  }
  assert.deepEqual(deriveDeviceState(facts({ assignment: a('active', 3) }), 2, 10, p), {
    state: 'skipped',
    reason: 'reassigned outside this rollout (now v3)',
  });
  assert.equal(deriveDeviceState(facts({ assignment: undefined }), 2, 10, p).state, 'skipped');
  assert.equal(deriveDeviceState(facts({ assignment: a('removed') }), 2, 10, p).state, 'skipped');
});
