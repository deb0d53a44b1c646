/** Connection settings for the length of a bulk import (docs/REGISTRY.md, "Bulk imports"). */

import type Database from 'better-sqlite3';

/**
 * Keeps statement journals in memory while an import session is open, and returns what puts the connection's
 * setting back. Inside the import's transaction every multi-row INSERT that could fail half-way keeps a
 * statement journal (the original of each page it changes, to undo that statement alone); with SQLite's
 * default `temp_store` it is a temporary file, and those write() calls were three quarters of the bytes an
 * import wrote. SQLite reads the setting when a transaction begins: call this before BEGIN.
 */
export function tuneForImport(db: Database.Database): () => void {
  const tempStore = db.pragma('temp_store', { simple: true }) as number;
  db.pragma('temp_store = MEMORY');
  return () => {
    db.pragma(`temp_store = ${tempStore}`);
  };
}
