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

/** Wraps handlers so that, per device, each starts once the one before it has settled. */
export function deviceOrder(): (handler: ChannelHandler) => ChannelHandler {
  const tails = new Map<string, Promise<void>>();
  return (handler) => (deviceId, payload) => {
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
}
