/**
 * @module store/postgres/postgres-dialect
 * PostgreSQL's side of store/sql-dialect.ts. A JSON column is TEXT (the schema is shared with
 * SQLite), so it is cast to jsonb and its member compared as a JSON string: `{"site": 1}` does
 * not match the string "1", as json_each's typed value does not in SQLite. Key and value are
 * bound parameters; no JSON path is built from input.
 */
import { sql, type SqlBool } from 'kysely';
import type { SqlDialect } from '../sql-dialect.js';

export const postgresDialect: SqlDialect = {
  jsonHasEntry: (column, key, value) => sql`((${column})::jsonb -> ${key}::text) = to_jsonb(${value}::text)`,
  jsonText: (column, key) => sql<string | null>`(((${column})::jsonb ->> ${key}::text) COLLATE "C")`,
  contains: (column, text) => sql<SqlBool>`strpos(${column}, ${text}::text) > 0`,
  greatest: (a, b) => sql<number>`greatest(${a}, ${b})`,
  // A partitioned table's own size is 0: its partitions hold the rows.
  tableBytes: (table) =>
    sql`SELECT CASE WHEN c.relkind = 'p'
                    THEN (SELECT sum(pg_total_relation_size(t.relid)) FROM pg_partition_tree(c.oid) t)
                    ELSE pg_total_relation_size(c.oid) END AS bytes
          FROM pg_class c WHERE c.oid = ${table}::regclass`,
};
