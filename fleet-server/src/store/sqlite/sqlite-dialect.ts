/**
 * @module store/sqlite/sqlite-dialect
 * SQLite's side of store/sql-dialect.ts: JSON objects are searched with json_each (key and value
 * both bound, no JSON path built from input), and max() of two arguments is the scalar maximum.
 */
import { sql, type SqlBool } from 'kysely';
import type { SqlDialect } from '../sql-dialect.js';

export const sqliteDialect: SqlDialect = {
  jsonHasEntry: (column, key, value) =>
    sql`EXISTS (SELECT 1 FROM json_each(${column}) AS j WHERE j.key = ${key} AND j.value = ${value})`,
  jsonText: (column, key) => sql<string | null>`json_extract(${column}, ${`$.${key}`})`,
  contains: (column, text) => sql<SqlBool>`instr(${column}, ${text}) > 0`,
  greatest: (a, b) => sql<number>`max(${a}, ${b})`,
  tableBytes: (table) =>
    sql`SELECT sum(pgsize) AS bytes FROM dbstat WHERE name = ${table} OR name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ${table})`,
};
