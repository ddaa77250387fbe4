/**
 * @module store/repositories/change-marks
 * Cheap fingerprints of what the console shows, one per topic, for its live updates: the console
 * asks every second while someone watches and tells browsers which topics changed. Read from the
 * database, not from this server's memory, so a change another server made (several servers on one
 * PostgreSQL) shows too. Reads only; every table keeps its one owner.
 */
import { sql } from 'kysely';
import type { RepositoryContext } from './context.js';

export const CHANGE_TOPICS = ['devices', 'models', 'rollouts', 'incidents', 'loop', 'training'] as const;
export type ChangeTopic = (typeof CHANGE_TOPICS)[number];

export interface ChangeMarkRepository {
  /** A string per topic that changes whenever what the topic covers changes. */
  marks(): Promise<Record<ChangeTopic, string>>;
}

export class KyselyChangeMarkRepository implements ChangeMarkRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async marks(): Promise<Record<ChangeTopic, string>> {
    const db = this.ctx.db();
    const [devices, assignments, models, rollouts, incidents, loop, training] = await Promise.all([
      db
        .selectFrom('devices')
        .select([
          sql<number>`count(*)`.as('n'),
          sql<number>`coalesce(sum(online), 0)`.as('online'),
          sql<number>`coalesce(max(last_seen), 0)`.as('seen'),
          sql<number>`coalesce(sum(disabled), 0)`.as('disabled'),
          sql<number>`coalesce(sum(backlog), 0)`.as('backlog'),
        ])
        .executeTakeFirst(),
      db
        .selectFrom('assignments')
        .select([sql<number>`count(*)`.as('n'), sql<number>`coalesce(max(updated_at), 0)`.as('t')])
        .executeTakeFirst(),
      db
        .selectFrom('model_versions')
        .select([sql<number>`count(*)`.as('n'), sql<number>`coalesce(max(created_at), 0)`.as('t')])
        .executeTakeFirst(),
      db
        .selectFrom('rollouts')
        .select([sql<number>`count(*)`.as('n'), sql<number>`coalesce(max(updated_at), 0)`.as('t')])
        .executeTakeFirst(),
      db
        .selectFrom('monitoring_incidents')
        .select([
          sql<number>`count(*)`.as('n'),
          sql<number>`coalesce(sum(case when state = 'open' then 1 else 0 end), 0)`.as('open'),
          sql<number>`coalesce(sum(length(body)), 0)`.as('size'),
        ])
        .executeTakeFirst(),
      db
        .selectFrom('loop_runs')
        .select([sql<number>`count(*)`.as('n'), sql<number>`coalesce(sum(length(body)), 0)`.as('size')])
        .executeTakeFirst(),
      db
        .selectFrom('training_jobs')
        .select([
          sql<number>`count(*)`.as('n'),
          sql<number>`count(started_at)`.as('started'),
          sql<number>`count(finished_at)`.as('finished'),
        ])
        .executeTakeFirst(),
    ]);
    const mark = (row: Record<string, unknown> | undefined) =>
      Object.values(row ?? {})
        .map(String)
        .join(':');
    return {
      devices: `${mark(devices)}|${mark(assignments)}`,
      models: mark(models),
      rollouts: mark(rollouts),
      incidents: mark(incidents),
      loop: mark(loop),
      training: mark(training),
    };
  }
}
