/**
 * @module cluster/leader-duties
 * Starts the fleet-wide duties when this server becomes leader and stops them (last started,
 * first stopped) when it steps down, so at most one server of a cluster runs each of them.
 * A duty that fails to start is logged and the others still start: one broken duty must not
 * leave the fleet without rollouts.
 */
import type { Logger } from 'pino';
import type { LeaderLease } from '../store/leader-lease.js';

export interface LeaderDuty {
  name: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

export function runWhileLeader(lease: LeaderLease, duties: readonly LeaderDuty[], log: Logger): void {
  const started = new Set<LeaderDuty>();
  lease.onChange(async (leader) => {
    if (leader) {
      for (const d of duties)
        try {
          await d.start();
          started.add(d);
        } catch (err) {
          log.error({ duty: d.name, err: (err as Error).message }, 'leader duty did not start');
        }
      return;
    }
    for (const d of [...duties].reverse()) {
      if (!started.delete(d)) continue;
      try {
        await d.stop();
      } catch (err) {
        log.error({ duty: d.name, err: (err as Error).message }, 'leader duty did not stop cleanly');
      }
    }
  });
}
