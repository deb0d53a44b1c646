import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tuneForImport } from '../../src/registry/import-tuning.ts';
import { tempDir } from './helpers.ts';

describe('the import connection settings', () => {
  it('keep statement journals in memory for the import, then put the connection back as it was', () => {
    const db = new Database(join(tempDir(), 'tuning.db'));
    try {
      db.pragma('temp_store = FILE');
      const untune = tuneForImport(db);
      expect(db.pragma('temp_store', { simple: true })).toBe(2);
      untune();
      expect(db.pragma('temp_store', { simple: true })).toBe(1);
    } finally {
      db.close();
    }
  });
});
