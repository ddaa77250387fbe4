/**
 * @module store/repositories/loop-repository
 * loop_policies and loop_runs. Bodies are JSON; the columns beside them (written from the body,
 * so the two never disagree) are what lists, the one-running-run rule and the loop's guards
 * (daily budget, cool-down) query. A partial unique index on the model of running runs makes
 * startRun atomic between racing requests and between servers on one database.
 */
import type { LoopRun } from '@edgeloop/protocol/rest';
import type { LoopPolicyRecord, LoopRepository, LoopRunQuery } from '../loop-store-types.js';
import { count, type RepositoryContext } from './context.js';

const DEFAULT_LIMIT = 100;
/** The trigger actor of automatic runs (incident, schedule, data), counted by the daily budget. */
const SYSTEM_ACTOR = 'system';

const parse = <T>(row: { body: string }): T => JSON.parse(row.body) as T;

/** The columns a run's row carries beside its body. */
const runColumns = (run: LoopRun) => ({
  model: run.model,
  state: run.state,
  created_at: run.createdAt,
  finished_at: run.finishedAt,
  trigger_actor: run.trigger.actor,
  body: JSON.stringify(run),
});

export class KyselyLoopRepository implements LoopRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async putPolicy(r: LoopPolicyRecord): Promise<void> {
    const cols = { body: JSON.stringify(r), updated_at: r.updatedAt };
    await this.ctx
      .db()
      .insertInto('loop_policies')
      .values({ model: r.policy.model, ...cols })
      .onConflict((oc) => oc.column('model').doUpdateSet(cols))
      .execute();
  }

  async getPolicy(model: string): Promise<LoopPolicyRecord | undefined> {
    const row = await this.ctx
      .db()
      .selectFrom('loop_policies')
      .select('body')
      .where('model', '=', model)
      .executeTakeFirst();
    return row ? parse<LoopPolicyRecord>(row) : undefined;
  }

  async listPolicies(): Promise<LoopPolicyRecord[]> {
    const rows = await this.ctx.db().selectFrom('loop_policies').select('body').orderBy('model').execute();
    return rows.map((r) => parse<LoopPolicyRecord>(r));
  }

  async deletePolicy(model: string): Promise<boolean> {
    const r = await this.ctx.db().deleteFrom('loop_policies').where('model', '=', model).executeTakeFirst();
    return count(r.numDeletedRows) > 0;
  }

  startRun(run: LoopRun): Promise<boolean> {
    return this.ctx.atomic(async () => {
      // A running run is kept single by the unique index alone; any other state is checked here.
      if (run.state !== 'running' && (await this.runningRun(run.model))) return false;
      const r = await this.ctx
        .db()
        .insertInto('loop_runs')
        .values({ id: run.id, ...runColumns(run) })
        // Any conflict: the id, or the one-running-run-per-model index.
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      return count(r.numInsertedOrUpdatedRows) > 0;
    });
  }

  async updateRun(run: LoopRun): Promise<void> {
    await this.ctx.db().updateTable('loop_runs').set(runColumns(run)).where('id', '=', run.id).execute();
  }

  async getRun(id: string): Promise<LoopRun | undefined> {
    const row = await this.ctx.db().selectFrom('loop_runs').select('body').where('id', '=', id).executeTakeFirst();
    return row ? parse<LoopRun>(row) : undefined;
  }

  async listRuns(q: LoopRunQuery = {}): Promise<LoopRun[]> {
    let query = this.ctx
      .db()
      .selectFrom('loop_runs')
      .select('body')
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(q.limit ?? DEFAULT_LIMIT);
    if (q.model !== undefined) query = query.where('model', '=', q.model);
    if (q.state !== undefined) query = query.where('state', '=', q.state);
    if (q.before !== undefined) query = query.where('created_at', '<', q.before);
    return (await query.execute()).map((r) => parse<LoopRun>(r));
  }

  async runningRun(model: string): Promise<LoopRun | undefined> {
    const row = await this.ctx
      .db()
      .selectFrom('loop_runs')
      .select('body')
      .where('model', '=', model)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return row ? parse<LoopRun>(row) : undefined;
  }

  async countAutomaticSince(model: string, since: number): Promise<number> {
    const r = await this.ctx
      .db()
      .selectFrom('loop_runs')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('model', '=', model)
      .where('created_at', '>=', since)
      .where('trigger_actor', '=', SYSTEM_ACTOR)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async lastFinished(model: string): Promise<LoopRun | undefined> {
    const row = await this.ctx
      .db()
      .selectFrom('loop_runs')
      .select('body')
      .where('model', '=', model)
      .where('finished_at', 'is not', null)
      .orderBy('finished_at', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return row ? parse<LoopRun>(row) : undefined;
  }
}
