import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import {
  openRegistry,
  type Registry,
  type RegistryOptions,
  type RegistryResult,
} from '../../src/registry/index.ts';

const dirs: string[] = [];
const open: Registry[] = [];

afterEach(() => {
  for (const r of open.splice(0)) {
    try {
      r.close();
    } catch {
      // already closed by the test
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'takedown-registry-'));
  dirs.push(dir);
  return dir;
}

/** A registry on a real SQLite file in a fresh directory, closed after the test. */
export function tempRegistry(options: RegistryOptions = {}): { registry: Registry; path: string } {
  const path = join(tempDir(), 'registry.db');
  const registry = openRegistry(path, { protectedDomains: ['gov', 'google.com'], ...options });
  open.push(registry);
  return { registry, path };
}

/** Reopens a registry file (closed after the test). */
export function reopen(path: string, options: RegistryOptions = {}): Registry {
  const registry = openRegistry(path, { protectedDomains: ['gov', 'google.com'], ...options });
  open.push(registry);
  return registry;
}

/** The value of a successful result; fails the test with the error otherwise. */
export function must<T>(r: RegistryResult<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

/** A settable clock. */
export function clock(start = '2025-01-01T00:00:00.000Z'): { now: () => Date; set(iso: string): void } {
  let t = new Date(start);
  return {
    now: () => new Date(t),
    set(iso: string) {
      t = new Date(iso);
    },
  };
}

/** A second, plain connection to a registry file, for inspecting or tampering with its tables. */
export function rawDb(path: string): Database.Database {
  const db = new Database(path);
  raws.push(db);
  return db;
}

const raws: Database.Database[] = [];
afterEach(() => {
  for (const db of raws.splice(0)) db.close();
});

/** Row counts of the tables a write touches. */
export function counts(path: string): Record<string, number> {
  const db = rawDb(path);
  const out: Record<string, number> = {};
  for (const t of ['versions', 'orders', 'entries', 'order_entries', 'changes']) {
    out[t] = db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number;
  }
  return out;
}
