import { open } from 'node:fs/promises';
import Database from 'better-sqlite3';

// Damage of the kind a bad disk or a stray write does: bytes flipped in the middle of a table's b-tree,
// while the file header (and so the file's claim to be SQLite) stays intact.

/**
 * Flips the cell-pointer bytes of the middle leaf page of `table` in the SQLite file at `path` (after a
 * checkpoint, so the page lives in the main file). Returns the page number and its byte offset.
 */
export async function flipTablePage(path: string, table: string): Promise<{ page: number; offset: number }> {
  const db = new Database(path);
  let page: number;
  let pageSize: number;
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    pageSize = db.pragma('page_size', { simple: true }) as number;
    const leaves = db
      .prepare("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno")
      .pluck()
      .all(table) as number[];
    if (leaves.length < 3) throw new Error(`table ${table} has only ${leaves.length} leaf pages`);
    page = leaves[Math.floor(leaves.length / 2)] as number;
  } finally {
    db.close();
  }
  const offset = (page - 1) * pageSize;
  const handle = await open(path, 'r+');
  try {
    // Bytes 8.. of a leaf page: the cell pointer array (where each row starts in the page).
    const bytes = Buffer.alloc(32);
    await handle.read(bytes, 0, bytes.length, offset + 8);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (bytes[i] as number) ^ 0xa5;
    await handle.write(bytes, 0, bytes.length, offset + 8);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { page, offset };
}
