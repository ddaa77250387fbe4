/**
 * @module load/verify-store
 * After a run, with the servers stopped: what the fleet store holds per device, read straight
 * from the database (SQLite opened read-only, or PostgreSQL), compared with what every device
 * made. Stored = made for each device and no seq twice is the harness's "nothing lost, nothing
 * duplicated". Reading the store rather than the REST API keeps this cheap at millions of rows.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

interface Row {
  device_id: string;
  n: number;
  distinct_seqs: number;
  max_seq: number;
}

export interface StoreCheck {
  stored: number;
  /** Records made but not in the store (summed over devices). */
  missing: number;
  /** Rows beyond one per (device, seq). */
  duplicates: number;
  /** Rows for records no device made (a seq above the device's last). */
  unexpected: number;
  /** Up to ten devices whose counts differ, for the report. */
  mismatches: Array<{ deviceId: string; made: number; stored: number; distinct: number }>;
}

const QUERY = `SELECT device_id, COUNT(*) AS n, COUNT(DISTINCT seq) AS distinct_seqs, MAX(seq) AS max_seq
               FROM telemetry GROUP BY device_id`;

async function readRows(store: { sqlitePath: string } | { url: string }): Promise<Row[]> {
  if ('sqlitePath' in store) {
    const db = new Database(store.sqlitePath, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(QUERY).all() as Row[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: store.url });
  await client.connect();
  try {
    return (await client.query<Row>(QUERY)).rows.map((r) => ({
      device_id: r.device_id,
      n: Number(r.n),
      distinct_seqs: Number(r.distinct_seqs),
      max_seq: Number(r.max_seq),
    }));
  } finally {
    await client.end();
  }
}

export async function checkStore(
  store: { sqlitePath: string } | { url: string },
  made: ReadonlyMap<string, number>,
): Promise<StoreCheck> {
  const rows = new Map((await readRows(store)).map((r) => [r.device_id, r]));
  const check: StoreCheck = { stored: 0, missing: 0, duplicates: 0, unexpected: 0, mismatches: [] };
  for (const [deviceId, m] of made) {
    const r = rows.get(deviceId);
    const n = r?.n ?? 0;
    const distinct = r?.distinct_seqs ?? 0;
    check.stored += n;
    check.duplicates += n - distinct;
    // Devices number their records 1..made, so a full set is exactly `made` distinct seqs up to `made`.
    check.unexpected += Math.max(0, (r?.max_seq ?? 0) - m);
    check.missing += Math.max(0, m - distinct);
    if ((n !== m || distinct !== m) && check.mismatches.length < 10)
      check.mismatches.push({ deviceId, made: m, stored: n, distinct });
  }
  return check;
}
