/**
 * @module deploy/desired-on-birth
 * Every birth gets the device's desired state from the database, the source of truth: the
 * embedded broker keeps retained messages in memory only (lost when the server restarts), and a
 * device offline while its last assignment was removed would otherwise never hear of it.
 *
 * Births arriving together (a fleet reconnecting after a server restart) are signed in one
 * transaction per batch rather than one each: each desired state stores its device's next
 * counter before it is sent, and a commit per device made reconnecting 10,000 devices wait on
 * 10,000 commits. A batch that fails is retried device by device, so one device's problem
 * (its state too large to send) does not keep the others' from them.
 */
import type { Logger } from 'pino';
import type { Deployments } from './deployments.js';

/**
 * Births gathered before they are signed together. Each batch is a commit (an fsync on SQLite's
 * main thread); with a fleet reconnecting, births arrive one per event-loop turn (the broker
 * accepts one connection per turn), and a shorter wait made batches of one or two.
 */
const GATHER_MS = 20;
/** Devices per transaction: a long one would hold the store's writes up. */
const MAX_BATCH = 200;

export function desiredOnBirth(
  deployments: Pick<Deployments, 'republish' | 'publishDesired'>,
  log: Logger,
): (deviceId: string) => void {
  const waiting = new Set<string>();
  let timer: NodeJS.Timeout | undefined;

  const warn = (deviceId: string, err: Error) =>
    log.warn({ deviceId, err: err.message }, 'could not publish desired state on birth');

  const flush = async () => {
    timer = undefined;
    const batch = [...waiting].slice(0, MAX_BATCH);
    for (const id of batch) waiting.delete(id);
    if (waiting.size > 0) timer = setTimeout(() => void flush(), 0);
    try {
      await deployments.republish(batch);
    } catch (err) {
      if (batch.length === 1) return warn(batch[0]!, err as Error);
      for (const id of batch) await deployments.publishDesired(id).catch((e: Error) => warn(id, e));
    }
  };

  return (deviceId) => {
    waiting.add(deviceId);
    timer ??= setTimeout(() => void flush(), GATHER_MS);
  };
}
