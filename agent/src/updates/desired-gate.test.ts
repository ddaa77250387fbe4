import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import {
  buildKeyset,
  generateKeyPair,
  signDesiredState,
  signKeyset,
  trustedKeyMap,
  type DesiredState,
} from '@edgeloop/protocol';
import { KeyValue, openAgentDb } from '../store/agent-db.js';
import { DesiredStateGate } from './desired-gate.js';
import { TrustStore } from './trust-store.js';
import { testKey, testKeyset, testRoot } from './test-support.js';

const silent = pino({ level: 'silent' });
const state = (counter: number, over: Partial<DesiredState> = {}): DesiredState => ({
  v: 2,
  deviceId: 'pi-1',
  counter,
  issuedAt: counter,
  models: [],
  keys: testKeyset,
  ...over,
});
const wire = (s: DesiredState, key = testKey) => Buffer.from(JSON.stringify(signDesiredState(s, key)));

function gate(t: { after: (fn: () => void) => void }, dir = mkdtempSync(join(tmpdir(), 'edgeloop-gate-'))) {
  const db = openAgentDb(join(dir, 'agent.db'));
  const kv = new KeyValue(db);
  const refused: string[] = [];
  const trust = new TrustStore(trustedKeyMap([testRoot.publicKey]), kv, silent);
  const g = new DesiredStateGate({ deviceId: 'pi-1', trust, kv, log: silent, onRefused: (code) => refused.push(code) });
  t.after(() => db.close());
  return { dir, gate: g, trust, refused, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('newer states pass, the same one passes again, older ones are refused, also after a restart', (t) => {
  const first = gate(t);
  t.after(first.cleanup);
  const s5 = wire(state(5));
  assert.equal(first.gate.admit(s5)?.counter, 5);
  assert.equal(first.gate.admit(s5)?.counter, 5, 'the retained copy again');
  assert.equal(first.gate.admit(wire(state(7)))?.counter, 7);
  assert.equal(first.gate.admit(s5), undefined);
  assert.equal(first.gate.admit(wire(state(7, { issuedAt: 99 }))), undefined, 'same counter, other content');
  assert.deepEqual(first.refused, ['replay', 'replay']);

  const restarted = gate(t, first.dir);
  assert.equal(restarted.gate.admit(s5), undefined, 'the counter survived the restart');
  assert.deepEqual(restarted.refused, ['replay']);
  assert.equal(restarted.gate.admit(wire(state(8)))?.counter, 8);
});

test("a state that is not the fleet's changes nothing, not even the keyset", (t) => {
  const g = gate(t);
  t.after(g.cleanup);
  const rogueRoot = generateKeyPair();
  const rogueKey = generateKeyPair();
  assert.equal(g.gate.admit(Buffer.from('{"models":[]}')), undefined);
  assert.equal(g.gate.admit(wire(state(9), rogueKey)), undefined);
  assert.equal(
    g.gate.admit(wire(state(9, { keys: signKeyset(buildKeyset(5, [rogueKey.publicKey]), rogueRoot) }), rogueKey)),
    undefined,
  );
  assert.equal(g.gate.admit(wire(state(9, { deviceId: 'pi-2' }))), undefined);
  assert.deepEqual(g.refused, ['unsigned', 'unknown-key', 'bad-keyset', 'wrong-device']);
  assert.equal(g.trust.version(), undefined, 'no keyset was taken from a refused state');
  // A newer keyset, signed by the root, travels with a state signed by its new key.
  const next = generateKeyPair();
  const rotated = state(10, { keys: signKeyset(buildKeyset(2, [next.publicKey]), testRoot) });
  assert.equal(g.gate.admit(wire(rotated, next))?.counter, 10);
});
