/**
 * The mark a cleanly stopped hub leaves beside its registry file: the identity, size and modification time
 * of the file and of its WAL. A start that finds both exactly as the hub left them knows no process wrote
 * the registry since the hub last had it, periodic integrity checks included, and need not hold its start on
 * a `quick_check`, which reads every page (many seconds at 10M entries; docs/DECISIONS.md).
 * A start without a matching mark (first start, crash, another process wrote the file) checks before it
 * listens. The mark is taken away by the start that reads it, so a crash of that run leaves none.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { writeFileDurably } from '../util/durable-file.ts';

const markPath = (dbPath: string) => `${dbPath}.clean-stop`;

/** What identifies the registry file and its WAL as they are now. */
function fileState(dbPath: string): string {
  const state = (path: string) => {
    try {
      const s = statSync(path, { bigint: true });
      return { dev: String(s.dev), ino: String(s.ino), size: String(s.size), mtime: String(s.mtimeNs) };
    } catch {
      return null;
    }
  };
  return JSON.stringify({ db: state(dbPath), wal: state(`${dbPath}-wal`) });
}

/** Records that the hub closed the registry at `dbPath` cleanly (call after its last connection closed). */
export function markCleanStop(dbPath: string): Promise<void> {
  return writeFileDurably(markPath(dbPath), `${fileState(dbPath)}\n`);
}

/** Whether the registry file is as a clean stop left it; removes the mark either way. */
export function takeCleanStop(dbPath: string): boolean {
  let mark: string;
  try {
    mark = readFileSync(markPath(dbPath), 'utf8');
  } catch {
    return false;
  }
  rmSync(markPath(dbPath), { force: true });
  return mark.trim() === fileState(dbPath);
}
