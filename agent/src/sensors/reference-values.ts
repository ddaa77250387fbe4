/**
 * @module sensors/reference-values
 * The reference-value feature as one unit the agent starts: the joiner (hooked into the record
 * buffer), memory of recently synced records, and the store of values that arrive after their
 * record was synced (sent by the outbox's reference stream, outbox/reference-stream.ts).
 * Readings come from the shared SensorLink (sensors/sensors.ts).
 */
import type { Logger } from 'pino';
import type { AgentDb } from '../store/agent-db.js';
import type { RecordBuffer } from '../store/record-buffer.js';
import { ReferenceStore } from '../store/reference-store.js';
import type { SensorReading } from './payload.js';
import { ReferenceJoiner, type JoinOutcome } from './reference-joiner.js';
import { referenceBindings, type ReferenceBinding, type SensorsConfig } from './sensor-config.js';

export interface ReferenceValues {
  joiner: ReferenceJoiner;
  store: ReferenceStore;
  accept(binding: ReferenceBinding, reading: SensorReading, now: number): JoinOutcome;
  /** Forget synced records older than the late-reference window. */
  housekeeping(now?: number): void;
}

export function startReferenceValues(deps: {
  config: SensorsConfig;
  db: AgentDb;
  buffer: RecordBuffer;
  log: Logger;
}): ReferenceValues | undefined {
  const bindings = referenceBindings(deps.config);
  if (bindings.length === 0) return undefined;
  const log = deps.log.child({ part: 'references' });
  const store = new ReferenceStore(deps.db);
  const joiner = new ReferenceJoiner(store, bindings, log);
  const models = joiner.boundModels();
  deps.buffer.setAppendHook((record) => joiner.onAppend(record));
  // Shadow records stored without the value their served twin got meanwhile (shadow-runner.ts).
  deps.buffer.onStored((seq, record) => joiner.onStored(seq, record));
  deps.buffer.trackSent();
  deps.buffer.setBeforeAcknowledge((from, to) => store.remember(from, to, models));
  return {
    joiner,
    store,
    accept: (binding, reading, now) => joiner.accept(binding, reading, now),
    housekeeping: (now = Date.now()) => void store.forgetOlderThan(now - deps.config.lateReferenceWindowMs),
  };
}
