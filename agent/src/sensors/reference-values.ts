/**
 * @module sensors/reference-values
 * The reference-value feature as one unit the agent starts and stops: the joiner (hooked into
 * the record buffer), memory of recently synced records, and the outbox for values that arrive
 * after their record was synced. Readings come from the shared SensorLink (sensors/sensors.ts).
 */
import type { Logger } from 'pino';
import type { Ack } from '@edgeloop/protocol';
import type { AgentDb } from '../store/agent-db.js';
import type { RecordBuffer } from '../store/record-buffer.js';
import { ReferenceStore } from '../store/reference-store.js';
import { ReferenceSync } from '../sync/reference-sync.js';
import type { SensorReading } from './payload.js';
import { ReferenceJoiner, type JoinOutcome } from './reference-joiner.js';
import { referenceBindings, type ReferenceBinding, type SensorsConfig } from './sensor-config.js';

export interface ReferenceValues {
  joiner: ReferenceJoiner;
  store: ReferenceStore;
  accept(binding: ReferenceBinding, reading: SensorReading, now: number): JoinOutcome;
  handleAck(ack: Ack): void;
  setConnected(connected: boolean): void;
  /** Forget synced records older than the late-reference window. */
  housekeeping(now?: number): void;
  close(): void;
}

export function startReferenceValues(deps: {
  config: SensorsConfig;
  db: AgentDb;
  buffer: RecordBuffer;
  stream: string;
  send: (payload: Buffer) => Promise<void>;
  ackTimeoutMs: number;
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
  const sync = new ReferenceSync(store, deps.stream, deps.send, { batchSize: 1000, ackTimeoutMs: deps.ackTimeoutMs, pollMs: 500 }, log);
  return {
    joiner,
    store,
    accept: (binding, reading, now) => joiner.accept(binding, reading, now),
    handleAck: (ack) => sync.handleAck(ack),
    setConnected: (c) => sync.setConnected(c),
    housekeeping: (now = Date.now()) => void store.forgetOlderThan(now - deps.config.lateReferenceWindowMs),
    close() {
      sync.close();
    },
  };
}
