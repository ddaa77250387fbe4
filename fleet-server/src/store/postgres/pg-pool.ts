/**
 * @module store/postgres/pg-pool
 * A node-postgres pool for the fleet store. The store keeps ms timestamps, counters and ids in
 * bigint columns; node-postgres returns int8 (and numeric, e.g. avg()) as strings by default so
 * as never to lose precision. Here they come back as numbers, as SQLite gives them — with the
 * parsers set on this pool only, not globally on the `pg` module other code may share.
 */
import pg from 'pg';

const INT8 = 20;
const NUMERIC = 1700;

/**
 * int8 as a number while it is a safe integer. Beyond 2^53 (never a ms timestamp or a count),
 * a bigint: exact, and mixing it with numbers throws instead of silently rounding.
 */
export function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/** numeric (aggregates such as avg) as a double, like SQLite's REAL results. */
export function parseNumeric(text: string): number {
  return Number(text);
}

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format !== 'binary') {
      if (oid === INT8) return parseInt8;
      if (oid === NUMERIC) return parseNumeric;
    }
    return pg.types.getTypeParser(oid, format);
  },
};

export interface PostgresPoolOptions {
  /** Connections held at most (default 10). */
  max?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * An idle pooled connection failed (server restart, network). The pool drops it and the next
   * query opens a new one; this only reports it. Without a listener pg would crash the process.
   */
  onIdleError?: (err: Error) => void;
}

export function openPostgresPool(url: string, options: PostgresPoolOptions = {}): pg.Pool {
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new Error(`not a PostgreSQL URL (postgres://user:password@host:port/database): ${redactUrl(url)}`);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'edgeloop-fleet-server',
    types: types as pg.CustomTypesConfig,
  });
  pool.on('error', (err) => options.onIdleError?.(err));
  return pool;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
