/**
 * @module ingest/device-order
 * Handles one device's messages in the order they arrived, across the channels given the same
 * ordering; different devices still run at once. The fleet bus starts a handler per message
 * without waiting for the one before, and on a store with concurrent transactions (PostgreSQL's
 * pool) two reports of one device — "verified" then "active", sent back to back — could then
 * commit in the wrong order and leave the assignment on "verified"; a report could likewise
 * overtake the birth of its session. Telemetry keeps its own grouping (ingest/telemetry-ingest.ts):
 * its records carry their own order and duplicates are skipped by the store.
 */
import type { ChannelHandler } from './fleet-bus.js';

export interface DeviceOrder {
  /** Wraps a handler so that, per device, each message starts once the one before it has settled. */
  (handler: ChannelHandler): ChannelHandler;
  /**
   * Settles once every message of the device taken so far has been handled (undefined: none
   * pending). Telemetry waits on it, so a batch sent after a birth is never stored before that
   * birth, even while the birth still queues behind the device's previous message.
   */
  settled(deviceId: string): Promise<void> | undefined;
}

export function deviceOrder(): DeviceOrder {
  const tails = new Map<string, Promise<void>>();
  const wrap =
    (handler: ChannelHandler): ChannelHandler =>
    (deviceId, payload) => {
      const run = (tails.get(deviceId) ?? Promise.resolve()).then(() => handler(deviceId, payload));
      // A failed message must not hold up the next; the failure still reaches this message's caller.
      const tail = run.then(
        () => undefined,
        () => undefined,
      );
      tails.set(deviceId, tail);
      void tail.then(() => {
        if (tails.get(deviceId) === tail) tails.delete(deviceId);
      });
      return run;
    };
  return Object.assign(wrap, { settled: (deviceId: string) => tails.get(deviceId) });
}
