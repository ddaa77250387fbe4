/**
 * @module store/sql-dialect
 * The few places where SQLite and PostgreSQL need different SQL, behind one small adapter the
 * repositories call; everything else is plain Kysely and runs on both. Each database's store
 * supplies its implementation (store/sqlite/sqlite-dialect.ts; PostgreSQL its own).
 */
import type { Expression, RawBuilder, SqlBool } from 'kysely';

export interface SqlDialect {
  /** True when the JSON object in `column` (TEXT) has `key` with exactly the string `value`. */
  jsonHasEntry(column: Expression<string>, key: string, value: string): RawBuilder<SqlBool>;
  /**
   * The string member `key` of the JSON object in `column` (TEXT) as text, or null; compared and
   * sorted byte by byte on both databases, like every other text column.
   */
  jsonText(column: Expression<string | null>, key: string): RawBuilder<string | null>;
  /** True when `text` occurs in `column`, case-sensitively, with no wildcard characters. */
  contains(column: Expression<string>, text: string): RawBuilder<SqlBool>;
  /** The larger of two numbers (SQLite's scalar max, PostgreSQL's greatest). */
  greatest(a: Expression<number>, b: Expression<number>): RawBuilder<number>;
  /** A query whose one row's `bytes` is the storage the named table and its indexes take. */
  tableBytes(table: string): RawBuilder<{ bytes: number | string | null }>;
}
