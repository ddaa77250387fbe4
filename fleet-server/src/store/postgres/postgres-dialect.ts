/**
 * @module store/postgres/postgres-dialect
 * PostgreSQL's side of store/sql-dialect.ts. A JSON column is TEXT (the schema is shared with
 * SQLite), so it is cast to jsonb and its member compared as a JSON string: `{"site": 1}` does
 * not match the string "1", as json_each's typed value does not in SQLite. Key and value are
 * bound parameters; no JSON path is built from input.
 */
import { sql } from 'kysely';
import type { SqlDialect } from '../sql-dialect.js';

export const postgresDialect: SqlDialect = {
  jsonHasEntry: (column, key, value) => sql`((${column})::jsonb -> ${key}::text) = to_jsonb(${value}::text)`,
  greatest: (a, b) => sql<number>`greatest(${a}, ${b})`,
  tableBytes: (table) => sql`SELECT pg_total_relation_size(${table}::regclass) AS bytes`,
};
