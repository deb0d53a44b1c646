/** SQLite's own consistency checks of the registry file, and the error that stops a hub on a damaged one. */

import type Database from 'better-sqlite3';

/** The registry file is damaged; the message names the file and what to do. */
export class RegistryCorruptError extends Error {
  override name = 'RegistryCorruptError';
}

/** Lines of a failed check kept in a message: enough to recognise the damage, short enough to read. */
const REPORTED_PROBLEMS = 5;

/** SQLite error codes that mean "this is not a sound database file" rather than a bug or a lock. */
const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

export const isCorruptionError = (e: unknown): boolean =>
  CORRUPT_CODES.has(String((e as { code?: unknown } | null)?.code ?? ''));

/**
 * Runs `PRAGMA quick_check` (page and b-tree structure, O(pages)) or `PRAGMA integrity_check` (also that
 * every index matches its table; slower) and returns what it found: an empty list when the file is sound.
 */
export function checkIntegrity(db: Database.Database, kind: 'quick_check' | 'integrity_check'): string[] {
  try {
    const rows = db.pragma(`${kind}(${REPORTED_PROBLEMS})`, { simple: false }) as Array<
      Record<string, string>
    >;
    const lines = rows.map((row) => Object.values(row)[0] ?? '');
    return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
  } catch (e) {
    if (isCorruptionError(e)) return [(e as Error).message];
    throw e;
  }
}

/** The operator's message for a damaged registry file. */
export function corruptionMessage(path: string, check: string, problems: readonly string[]): string {
  return (
    `the registry ${path} is damaged (${check}: ${problems.slice(0, REPORTED_PROBLEMS).join('; ')}). ` +
    'Stop the hub, restore the file from a backup (takedown backup; docs/OPERATIONS.md "Backup and restore") ' +
    'and run `takedown audit verify` before serving again.'
  );
}
