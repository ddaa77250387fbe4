/**
 * @module store/postgres/postgres-leader-lease
 * The leader lease and start-up lock on PostgreSQL (store/leader-lease.ts says what they are for):
 * session advisory locks, each on a connection of its own outside the store's pool.
 */
import pg from 'pg';
import type { ClusterCoordination, LeaderLease, LeaseOptions } from '../leader-lease.js';

/** Advisory lock key of the leader lease (the ASCII text "edgeLEAD"; migrations use another). */
export const LEADER_LOCK_KEY = 0x6564_6765_4c45_4144n;
/** Advisory lock key of start-up steps (the ASCII text "edgeBOOT"). */
export const STARTUP_LOCK_KEY = 0x6564_6765_424f_4f54n;
/** Advisory lock key of rollout decisions (the ASCII text "edgeTURN"). */
export const DECISION_LOCK_KEY = 0x6564_6765_5455_524en;

export function postgresCoordination(url: string): ClusterCoordination {
  const turns = new DecisionTurns(url);
  return {
    decisionTurn: (fn) => turns.run(fn),
    close: () => turns.close(),
    leaderLease: (opts) => new PostgresLeaderLease({ ...opts, url }),
    startupStep: async (fn) => {
      const client = new pg.Client({ connectionString: url, application_name: 'edgeloop-startup' });
      client.on('error', () => undefined); // the lock dies with the session; fn's own store calls report trouble
      await client.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [STARTUP_LOCK_KEY.toString()]);
        return await fn();
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/**
 * One decision at a time across servers: a session advisory lock on a connection of its own,
 * taken around each decision. Decisions of this server already come one at a time (the rollout
 * engine's queue); this makes the queue cluster-wide. A connection that fails is dropped (its
 * session, and the lock, with it) and the next decision opens a new one.
 */
class DecisionTurns {
  private client: pg.Client | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly url: string) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    const turn = this.queue.then(() => this.once(fn));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.drop();
  }

  private async once<T>(fn: () => Promise<T>): Promise<T> {
    const client = this.client ?? (await this.connect());
    try {
      await client.query('SELECT pg_advisory_lock($1)', [DECISION_LOCK_KEY.toString()]);
    } catch (err) {
      await this.drop();
      throw err;
    }
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [DECISION_LOCK_KEY.toString()]).catch(() => this.drop());
    }
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: 'edgeloop-decisions',
      keepAlive: true,
    });
    client.on('error', () => {
      if (this.client === client) this.client = undefined;
      void client.end().catch(() => undefined);
    });
    await client.connect();
    this.client = client;
    return client;
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

export interface PostgresLeaseOptions extends LeaseOptions {
  url: string;
  key?: bigint;
}

export class PostgresLeaderLease implements LeaderLease {
  private listeners: Array<(leader: boolean) => void | Promise<void>> = [];
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Changes are announced one at a time, in order. */
  private announcing: Promise<void> = Promise.resolve();
  private attempt: Promise<void> | undefined;
  leader = false;

  constructor(private readonly opts: PostgresLeaseOptions) {}

  private get pollMs(): number {
    return this.opts.pollMs ?? 2000;
  }

  onChange(listener: (leader: boolean) => void | Promise<void>): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    await this.poll();
    await this.announcing;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.attempt;
    this.setLeader(false, 'closing');
    await this.announcing;
    await this.drop();
  }

  private poll(): Promise<void> {
    this.attempt = this.once()
      .catch((err: Error) => {
        if (this.leader) this.setLeader(false, `leader connection failed: ${err.message}`);
        else this.opts.log.debug({ err: err.message }, 'leader lease: attempt failed; retrying');
        return this.drop();
      })
      .finally(() => {
        if (!this.closed) {
          this.timer = setTimeout(() => void this.poll(), this.pollMs);
          this.timer.unref();
        }
      });
    return this.attempt;
  }

  private async once(): Promise<void> {
    const client = this.client ?? (await this.connect());
    if (this.leader) {
      await client.query('SELECT 1');
      return;
    }
    const { rows } = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [
      (this.opts.key ?? LEADER_LOCK_KEY).toString(),
    ]);
    if (rows[0]?.got && !this.closed) this.setLeader(true, 'took the leader lease');
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.opts.url,
      application_name: `edgeloop-leader ${this.opts.instanceId}`.slice(0, 63),
      // A check that hangs (network gone, server frozen) must end the claim, not stall it.
      query_timeout: Math.max(1000, this.pollMs * 2),
      connectionTimeoutMillis: Math.max(1000, this.pollMs * 2),
      keepAlive: true,
    });
    // Without a listener an 'error' would crash the process; losing the session loses the lock.
    client.on('error', (err) => {
      if (this.client !== client) return;
      this.client = undefined;
      if (this.leader) this.setLeader(false, `leader connection lost: ${err.message}`);
      void client.end().catch(() => undefined);
    });
    await client.connect();
    this.client = client;
    return client;
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private setLeader(leader: boolean, why: string): void {
    if (this.leader === leader) return;
    this.leader = leader;
    this.opts.log.info({ instance: this.opts.instanceId, leader, why }, leader ? 'leader now' : 'no longer leader');
    for (const l of this.listeners)
      this.announcing = this.announcing
        .then(() => l(leader))
        .catch((err: Error) => this.opts.log.error({ err: err.message, leader }, 'leader change handler failed'));
  }
}
