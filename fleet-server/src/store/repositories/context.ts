/**
 * @module store/repositories/context
 * What every repository gets from the store: the query builder of the unit of work in progress
 * (or the store's own outside one), the dialect adapter, and a way to make several statements
 * atomic (joining a transaction already open).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { SqlDialect } from '../sql-dialect.js';

export interface RepositoryContext {
  /** The current transaction's builder inside a unit of work, else the store's. */
  db(): Kysely<Database>;
  readonly dialect: SqlDialect;
  /** Whether the caller runs inside a unit of work. */
  inTransaction(): boolean;
  /** Runs fn atomically; inside a unit of work it simply joins it. */
  atomic<T>(fn: () => Promise<T>): Promise<T>;
}

/** Affected-row counts come back as bigint from Kysely; they are small. */
export const count = (n: bigint | number | undefined): number => Number(n ?? 0);

export const parseJson = <T>(text: string | null | undefined, fallback: T): T =>
  text ? (JSON.parse(text) as T) : fallback;
