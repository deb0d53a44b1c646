/** `takedown backup`: a consistent copy of a live registry through SQLite's online backup API. */

import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { syncDirectory, tempPathBeside } from '../util/durable-file.ts';
import { checkIntegrity, corruptionMessage } from './integrity.ts';

export interface BackupResult {
  /** The registry version the copy holds. */
  version: number;
  bytes: number;
}

/** SQLite pages copied per backup step: all of them, in one read transaction (see `backupRegistry`). */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies the registry at `source` to `out` while other processes (the hub) keep reading and writing it.
 *
 * The copy is one read transaction of the source (WAL: the hub's writes go on meanwhile and are simply not
 * in it), taken in one backup step: with small steps, every write of the hub between two steps would restart
 * the copy, and a busy hub could keep it from ever finishing. The copy goes to a temporary file beside `out`,
 * passes `PRAGMA quick_check`, is fsynced and only then renamed to `out`.
 */
export async function backupRegistry(source: string, out: string): Promise<BackupResult> {
  const temp = tempPathBeside(out);
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    await db.backup(temp, { progress: () => ALL_PAGES });
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  } finally {
    db.close();
  }
  try {
    const copy = new Database(temp, { fileMustExist: true });
    let version: number;
    try {
      const problems = checkIntegrity(copy, 'quick_check');
      if (problems.length > 0)
        throw new Error(corruptionMessage(source, 'quick_check of the copy', problems));
      copy.pragma('wal_checkpoint(TRUNCATE)');
      version = (copy.prepare('SELECT max(version) FROM versions').pluck().get() as number | null) ?? 0;
    } finally {
      copy.close();
    }
    const handle = await open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, out);
    await syncDirectory(dirname(out));
    return { version, bytes: (await stat(out)).size };
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}
