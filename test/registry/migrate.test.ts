import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/registry/index.ts';
import { DEFAULT_MIGRATIONS_DIR, migrate, readMigrations } from '../../src/registry/migrate.ts';
import { rawDb, reopen, tempDir, tempRegistry } from './helpers.ts';

describe('migrations', () => {
  it('applies every migration once, records it, and is idempotent', () => {
    const { registry, path } = tempRegistry();
    registry.close();
    const db = rawDb(path);
    const recorded = db.prepare('SELECT version, name FROM schema_migrations').all();
    expect(recorded).toEqual(readMigrations().map((m) => ({ version: m.version, name: m.name })));
    expect(migrate(db)).toEqual([]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(reopen(path).currentVersion()).toBe(0);
  });

  it('applies new migrations in numeric order and refuses an edited one (comments aside)', () => {
    const dir = join(tempDir(), 'migrations');
    mkdirSync(dir);
    for (const file of ['001_init.sql', '004_transparency_log.sql']) {
      copyFileSync(join(DEFAULT_MIGRATIONS_DIR, file), join(dir, file));
    }
    const path = join(tempDir(), 'r.db');
    openRegistry(path, { migrationsDir: dir, protectedDomainsFile: null }).close();
    writeFileSync(join(dir, '010_later.sql'), 'CREATE TABLE later (x INTEGER);');
    writeFileSync(join(dir, '002_notes.sql'), 'CREATE TABLE notes (x INTEGER);');
    const db = rawDb(path);
    expect(migrate(db, readMigrations(dir))).toEqual([2, 10]);
    writeFileSync(join(dir, '002_notes.sql'), '-- why notes exist\nCREATE TABLE notes  (x INTEGER);\n');
    expect(migrate(db, readMigrations(dir))).toEqual([]);
    writeFileSync(join(dir, '002_notes.sql'), 'CREATE TABLE notes (y INTEGER);');
    expect(() => migrate(db, readMigrations(dir))).toThrow(/002_notes\.sql was edited/);
    writeFileSync(join(dir, 'notes.sql'), '');
    expect(() => readMigrations(dir)).toThrow(/not named NNN_name\.sql/);
  });

  it("keeps the compliance rows written before reports carried an agent id, as their token's row", () => {
    const path = join(tempDir(), 'r.db');
    const db = rawDb(path);
    migrate(
      db,
      readMigrations().filter((m) => m.version === 1),
    );
    db.prepare(
      "INSERT INTO tokens (id, name, role, token_hash, created_at) VALUES (7, 'isp', 'distributor', 'h', 't')",
    ).run();
    db.prepare(
      "INSERT INTO distributors (token_id, feed, version, applied_at, reported_at, outputs) VALUES (7, 'dns', 0, 'a', 'r', '[]')",
    ).run();
    migrate(db);
    expect(db.prepare('SELECT token_id, agent_id, feed, version FROM distributors').all()).toEqual([
      { token_id: 7, agent_id: '', feed: 'dns', version: 0 },
    ]);
  });

  it('opens a migrated file read-only, and refuses a file without the schema', () => {
    const { registry, path } = tempRegistry();
    registry.close();
    const ro = reopen(path, { readonly: true });
    expect(ro.currentVersion()).toBe(0);
    const empty = join(tempDir(), 'empty.db');
    rawDb(empty).exec('CREATE TABLE x (y)');
    expect(() => openRegistry(empty, { readonly: true, protectedDomainsFile: null })).toThrow(/schema 0/);
  });
});
