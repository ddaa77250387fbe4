/**
 * @module ingest/presence-writer
 * Births and deaths stored in group commits: those that arrive within PRESENCE_GATHER_MS of the
 * first, or while a group is being written, are written together in one transaction, so one
 * commit covers them.
 *
 * Why: on SQLite every commit is an fsync on the server's main thread (synchronous=FULL), and a
 * fleet reconnecting at once paid one per birth. The broker accepts connections and reads
 * sockets on that same thread, so ~5 ms of fsync per birth capped connects at ~150–200/s with
 * the CPU half idle (connections waited in the kernel's accept queue). A birth needs no commit
 * before its PUBACK (the broker answers it before the ingest runs), so waiting costs the device
 * nothing but a later desired state.
 *
 * Per device, the order of births and deaths is the caller's (device-order.ts hands a device's
 * next message over only once the one before has settled), and a group keeps arrival order. A
 * group whose transaction fails is written again message by message, each on its own, so one
 * bad message does not fail the others.
 */
import type { Birth } from '@edgeloop/protocol';
import type { FleetStore } from '../store/fleet-store.js';

/**
 * How long the first message of a group waits for others. The broker accepts one connection per
 * event-loop turn, so births trickle in one per turn however many devices knock at once: the
 * group has to wait a little to be more than one.
 */
export const PRESENCE_GATHER_MS = 20;

/** Messages per transaction: a long one would hold the store's other writers up. */
export const MAX_PRESENCE_GROUP = 500;

export interface PresenceWriter {
  /** Resolves once the birth is committed. */
  birth(msg: Birth): Promise<void>;
  /** Resolves once committed: true if it marked the device offline (recordDeath). */
  death(deviceId: string, session: number): Promise<boolean>;
}

interface Job {
  write: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export function presenceWriter(
  store: Pick<FleetStore, 'devices' | 'transaction'>,
  gatherMs = PRESENCE_GATHER_MS,
): PresenceWriter {
  let jobs: Job[] = [];
  let writing = false;
  let scheduled = false;
  const enqueue = <T>(write: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      jobs.push({ write, resolve: resolve as (value: unknown) => void, reject });
      schedule();
    });

  function schedule(): void {
    if (scheduled || writing) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      void flush();
    }, gatherMs);
  }

  async function flush(): Promise<void> {
    const group = jobs.slice(0, MAX_PRESENCE_GROUP);
    jobs = jobs.slice(group.length);
    if (group.length === 0) return;
    writing = true;
    try {
      await writeGroup(group);
    } finally {
      writing = false;
      // What arrived during the write has gathered long enough: write it next, without a new wait.
      if (jobs.length > 0) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          void flush();
        });
      }
    }
  }

  async function writeGroup(group: Job[]): Promise<void> {
    let results: unknown[];
    try {
      results = await store.transaction(async () => {
        const out: unknown[] = [];
        for (const job of group) out.push(await job.write());
        return out;
      });
    } catch (err) {
      if (group.length === 1) return group[0]!.reject(err as Error);
      for (const job of group) await writeGroup([job]);
      return;
    }
    group.forEach((job, i) => job.resolve(results[i]));
  }

  return {
    birth: (msg) => enqueue(() => store.devices.recordBirth(msg)),
    death: (deviceId, session) => enqueue(() => store.devices.recordDeath(deviceId, session)),
  };
}
