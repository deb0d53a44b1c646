/**
 * The measured imports of bench/import.ts. Each runs in a process of its own (import-pass-child.ts), with a
 * fresh heap: an import right after a 10M fill in the same process pays for the fill's garbage.
 */

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { REPO_ROOT } from './data.ts';
import { fillRegistry } from './fill-registry.ts';
import { generatedNames, realNames } from './scale-names.ts';
import { measure } from './timing.ts';

export const PASS_SCRIPT = join(REPO_ROOT, 'bench', 'lib', 'import-pass-child.ts');

/** `fill`: a registry of SIZE names; `import`: generated `import-*` names; `spread`: names spread over it. */
export type PassKind = 'fill' | 'import' | 'spread';

export interface ImportPass {
  added: number;
  wall: number;
  cpu: number;
  /** Bytes the process passed to write() during the pass (Linux /proc/self/io `wchar`). */
  bytes: number;
  load: number;
}

/**
 * The share of real names in a fill, at every size: the lists hold 2.0M distinct names, a fifth of 10M, and
 * generated names are longer, so a 1M fill of real names only would write fewer bytes per entry for that alone.
 */
export const REAL_SHARE = 0.2;

function bytesWritten(): number {
  return Number(/^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);
}

/**
 * `count` new names spread evenly over the registry's key order: every (n/count)-th entry by id with `-i`
 * after its first label, which sorts right beside it.
 */
function spreadNames(dbPath: string, count: number): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    const ids = db.prepare('SELECT max(id) FROM entries').pluck().get() as number;
    const every = Math.max(1, Math.floor(ids / count));
    const expressions = db
      .prepare('SELECT expression FROM entries WHERE id % ? = 0 LIMIT ?')
      .pluck()
      .all(every, count) as string[];
    return expressions.map((e) => {
      const host = e.slice(0, e.indexOf('/'));
      const dot = host.indexOf('.');
      return `${host.slice(0, dot)}-i${host.slice(dot)}`;
    });
  } finally {
    db.close();
  }
}

function namesFor(dbPath: string, kind: PassKind, size: number, count: number): string[] {
  if (kind === 'fill') {
    const real = realNames(Math.round(size * REAL_SHARE));
    return [...real, ...generatedNames('fill', 0, size - real.length)];
  }
  return kind === 'import' ? generatedNames('import-', 0, count) : spreadNames(dbPath, count);
}

/** Imports the pass's names into the registry at `dbPath` (open, write, commit, close), measured. */
export async function runPass(
  dbPath: string,
  kind: PassKind,
  size: number,
  count: number,
): Promise<ImportPass> {
  const names = namesFor(dbPath, kind, size, count);
  const load = loadavg()[0] ?? 0;
  const before = bytesWritten();
  let added = 0;
  const time = await measure(() => {
    added = fillRegistry(dbPath, names);
  });
  return { added, wall: time.wall, cpu: time.cpu, bytes: bytesWritten() - before, load };
}
