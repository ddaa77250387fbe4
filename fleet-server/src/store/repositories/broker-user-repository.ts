/**
 * @module store/repositories/broker-user-repository
 * Mosquitto's `$7$` hash of each device's broker password, and the revision the leader polls to
 * learn that the broker's password file is out of date. Whether a device may log in (disabled)
 * stays in `devices`; `list` joins it in, so there is no copy to drift.
 */
import type { BrokerUser, BrokerUserRepository } from '../fleet-store.js';
import { count, type RepositoryContext } from './context.js';

export class KyselyBrokerUserRepository implements BrokerUserRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async put(deviceId: string, passwordHash: string, now = Date.now()): Promise<void> {
    await this.ctx.atomic(async () => {
      await this.ctx
        .db()
        .insertInto('broker_users')
        .values({ device_id: deviceId, password_hash: passwordHash, updated_at: now })
        .onConflict((oc) =>
          oc.column('device_id').doUpdateSet((eb) => ({
            password_hash: eb.ref('excluded.password_hash'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
      await this.touch();
    });
  }

  async putIfAbsent(deviceId: string, passwordHash: string, now = Date.now()): Promise<boolean> {
    return this.ctx.atomic(async () => {
      const r = await this.ctx
        .db()
        .insertInto('broker_users')
        .values({ device_id: deviceId, password_hash: passwordHash, updated_at: now })
        .onConflict((oc) => oc.column('device_id').doNothing())
        .executeTakeFirst();
      const added = count(r.numInsertedOrUpdatedRows) > 0;
      if (added) await this.touch();
      return added;
    });
  }

  async remove(deviceId: string): Promise<boolean> {
    return this.ctx.atomic(async () => {
      const r = await this.ctx.db().deleteFrom('broker_users').where('device_id', '=', deviceId).executeTakeFirst();
      const removed = count(r.numDeletedRows) > 0;
      if (removed) await this.touch();
      return removed;
    });
  }

  async touch(): Promise<void> {
    await this.ctx
      .db()
      .updateTable('broker_users_revision')
      .set((eb) => ({ revision: eb('revision', '+', 1) }))
      .where('id', '=', 1)
      .execute();
  }

  async revision(): Promise<number> {
    const r = await this.ctx
      .db()
      .selectFrom('broker_users_revision')
      .select('revision')
      .where('id', '=', 1)
      .executeTakeFirst();
    return Number(r?.revision ?? 0);
  }

  async list(): Promise<BrokerUser[]> {
    const rows = await this.ctx
      .db()
      .selectFrom('broker_users as b')
      .leftJoin('devices as d', 'd.id', 'b.device_id')
      .select(['b.device_id', 'b.password_hash', 'd.disabled'])
      .orderBy('b.device_id')
      .execute();
    // No device row cannot log in either (the device was removed since).
    return rows.map((r) => ({ deviceId: r.device_id, passwordHash: r.password_hash, disabled: r.disabled !== 0 }));
  }
}
