/** Versioned SQL migrations: `NNN_name.sql` files applied in numeric order, each recorded once. */

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';

/** The migrations shipped with the project (`data/migrations`). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../data/migrations/', import.meta.url));

/** One migration file. */
export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

/** A migration file that cannot be applied: a bad name, a duplicate number, or an applied file edited later. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

const FILE_NAME = /^(\d+)_([a-z0-9_-]+)\.sql$/;

/**
 * A migration that rebuilds a table other tables reference (the only way to change a CHECK constraint) starts
 * with this line: it runs with foreign keys off, as SQLite's table-rebuild procedure requires, and commits
 * only when `foreign_key_check` finds nothing.
 */
const FOREIGN_KEYS_OFF = /^-- takedown:foreign-keys-off\s*$/m;

/** The SQL without `--` comments and with whitespace collapsed: editing a comment is not a schema change. */
const significant = (sql: string): string =>
  sql
    .replace(/--[^\n]*/g, '')
    .replace(/\s+/g, ' ')
    .trim();

/** Reads `NNN_name.sql` files from `dir`, sorted by number. */
export function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.sql')) continue;
    const m = FILE_NAME.exec(file);
    if (m === null) throw new MigrationError(`migration file '${file}' is not named NNN_name.sql`);
    const sql = readFileSync(join(dir, file), 'utf8');
    const checksum = createHash('sha256').update(significant(sql)).digest('hex');
    out.push({ version: Number(m[1]), name: m[2] as string, file, sql, checksum });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i]?.version === out[i - 1]?.version) {
      throw new MigrationError(`two migration files are numbered ${out[i]?.version}`);
    }
  }
  return out;
}

/**
 * Applies every migration not yet recorded in `schema_migrations`, each in its own transaction, and returns the
 * versions applied. Idempotent. An applied migration whose file changed since is refused: the schema it
 * describes would no longer be the one in the database.
 */
export function migrate(db: Database.Database, migrations: Migration[] = readMigrations()): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const recorded = db.prepare('SELECT checksum FROM schema_migrations WHERE version = ?').pluck();
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)',
  );
  const done: number[] = [];
  for (const m of migrations) {
    const rebuild = FOREIGN_KEYS_OFF.test(m.sql);
    const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
    // Outside any transaction: the pragma is a no-op inside one.
    if (rebuild) db.pragma('foreign_keys = OFF');
    // Checked inside the write transaction: two processes opening one new database must not both apply it.
    const apply = db.transaction(() => {
      const checksum = recorded.get(m.version) as string | undefined;
      if (checksum !== undefined) {
        if (checksum !== m.checksum) {
          throw new MigrationError(`migration ${m.file} was edited after it was applied`);
        }
        return false;
      }
      db.exec(m.sql);
      if (rebuild && (db.pragma('foreign_key_check') as unknown[]).length > 0) {
        throw new MigrationError(`migration ${m.file} leaves foreign keys that point nowhere`);
      }
      record.run(m.version, m.name, m.checksum, new Date().toISOString());
      return true;
    });
    let applied: boolean;
    try {
      applied = apply.immediate();
    } finally {
      if (rebuild) db.pragma(`foreign_keys = ${foreignKeys}`);
    }
    if (applied) done.push(m.version);
  }
  return done;
}

/** The highest applied migration number, 0 for an empty database. */
export function schemaVersion(db: Database.Database): number {
  const exists = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (exists === undefined) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}
