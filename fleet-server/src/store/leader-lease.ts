/**
 * @module store/leader-lease
 * Which fleet server of a cluster runs the fleet-wide duties (rollout ticks, re-signing expiring
 * manifests, replaying retained presence): the one holding the leader lease, which each store
 * hands out (`FleetStore.cluster`).
 *
 * On PostgreSQL (store/postgres/postgres-leader-lease.ts) the lease is a session advisory lock held on a connection of its own, outside
 * the store's pool. PostgreSQL drops the lock with the session, so when the holder dies (even by
 * kill -9: the kernel closes its socket) another server's next attempt gets it. Every
 * `pollMs` a follower tries to take the lock and the leader checks its connection still answers;
 * a leader whose connection fails or stops answering steps down at once and closes it, so its
 * session (and the lock) cannot outlive its claim. The gap in which a dying leader's session is
 * gone but the leader has not noticed is at most one poll.
 *
 * A SQLite store belongs to one process (its data directory is locked), so that server is
 * always the leader; the same interface keeps the wiring identical.
 */
import type { Logger } from 'pino';

export interface LeaderLease {
  readonly leader: boolean;
  /** Called on every change, in order; a listener's promise is awaited before the next change. */
  onChange(listener: (leader: boolean) => void | Promise<void>): void;
  /** Makes the first attempt (its outcome is `leader` when this resolves), then keeps polling. */
  start(): Promise<void>;
  /** Steps down (listeners hear `false`) and releases the lease. */
  close(): Promise<void>;
}

export interface LeaseOptions {
  /** This server's name (PostgreSQL: shown in pg_stat_activity, so an operator sees who leads). */
  instanceId: string;
  log: Logger;
  /** How often a follower tries and a leader checks its claim (default 2000 ms). */
  pollMs?: number;
}

/** Cluster coordination a store offers (FleetStore.cluster). */
export interface ClusterCoordination {
  leaderLease(opts: LeaseOptions): LeaderLease;
  /**
   * Runs a start-up step (creating the root key in the shared folder, signing the first keyset)
   * while no other server on this database runs one: servers started together take turns and the
   * later ones find the work done.
   */
  startupStep<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Runs a decision (a rollout step or an operator action on a rollout) while no other server
   * on this database runs one, so the leader's tick and an action served by another server
   * never interleave.
   */
  decisionTurn<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** One process owns the store (SQLite): it always leads and nobody else starts up beside it. */
export const soleCoordination: ClusterCoordination = {
  leaderLease: () => new SoleLeader(),
  startupStep: (fn) => fn(),
  decisionTurn: (fn) => fn(),
  close: async () => undefined,
};

export class SoleLeader implements LeaderLease {
  private listeners: Array<(leader: boolean) => void | Promise<void>> = [];
  leader = false;

  onChange(listener: (leader: boolean) => void | Promise<void>): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    this.leader = true;
    for (const l of this.listeners) await l(true);
  }

  async close(): Promise<void> {
    if (!this.leader) return;
    this.leader = false;
    for (const l of this.listeners) await l(false);
  }
}
