/**
 * @module sqlite-migrations
 * Numbered schema migrations keyed on SQLite's `user_version`, shared by the agent's and the
 * fleet server's databases. Typed structurally so protocol/ needs no SQLite dependency.
 */
export interface MigratableDb {
  pragma(source: string, options?: { simple?: boolean }): unknown;
  exec(source: string): unknown;
  transaction(fn: () => void): () => void;
}

/** Applies migrations[user_version..] each in its own transaction; refuses a newer schema. */
export function applyMigrations(db: MigratableDb, migrations: readonly string[], what: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `${what} schema v${current} is newer than this version understands (v${migrations.length}); upgrade EdgeLoop`,
    );
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
