/** Reading the change log: pages for auditors and net changes between two versions for deltas. */

import type { Action, Category, Change, ChangeOp } from '../core/types.ts';
import { GENESIS_HASH } from './change-encoding.ts';
import { CHANGE_SELECT, hexOf, toChangeRecord } from './change-log.ts';
import { pageSize } from './queries.ts';
import { kindOf } from './rows.ts';
import { failure, type Store, success } from './store.ts';
import type { ChangeRecord, RegistryResult } from './types.ts';

/** A version range outside 0..current, or reversed. */
export class VersionRangeError extends RangeError {
  override name = 'VersionRangeError';
}

export interface ChangeQuery {
  /** Rows with seq greater than this (default 0). */
  afterSeq?: number;
  limit?: number;
  /** Only this version's rows. */
  version?: number;
}

export interface ChangePage {
  items: ChangeRecord[];
  /** Pass as `afterSeq` for the next page; null on the last page. */
  nextAfterSeq: number | null;
}

/** The last change-log seq written at or before `version` (0 before any change). */
function seqAtVersion(store: Store, version: number): number {
  const seq = store
    .stmt(
      'SELECT last_seq FROM versions WHERE version <= ? AND last_seq IS NOT NULL ORDER BY version DESC LIMIT 1',
    )
    .pluck()
    .get(version) as number | undefined;
  return seq ?? 0;
}

/** Change-log rows in seq order. */
export function listChanges(store: Store, q: ChangeQuery = {}): RegistryResult<ChangePage> {
  const limit = pageSize(q.limit);
  if (!limit.ok) return limit;
  const afterSeq = q.afterSeq ?? 0;
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
    return failure('invalid_input', `afterSeq ${String(q.afterSeq)} is not a non-negative integer`);
  }
  let upTo = Number.MAX_SAFE_INTEGER;
  let from = afterSeq;
  if (q.version !== undefined) {
    if (!Number.isSafeInteger(q.version) || q.version < 1) {
      return failure('invalid_input', `version ${String(q.version)} is not a positive integer`);
    }
    upTo = seqAtVersion(store, q.version);
    from = Math.max(from, seqAtVersion(store, q.version - 1));
  }
  const before = store.stmt('SELECT hash FROM changes WHERE seq = ?').pluck().get(from);
  let prev = before === undefined ? GENESIS_HASH : hexOf(before);
  const items: ChangeRecord[] = [];
  for (const row of store
    .stmt(`${CHANGE_SELECT} WHERE c.seq > ? AND c.seq <= ? ORDER BY c.seq LIMIT ?`)
    .raw()
    .all(from, upTo, limit.value)) {
    const c = toChangeRecord(row, prev);
    items.push(c);
    prev = c.hash;
  }
  const last = items[items.length - 1];
  return success({ items, nextAfterSeq: items.length === limit.value && last ? last.seq : null });
}

type NetRow = [
  expression: string,
  firstOp: ChangeOp,
  firstCategory: Category,
  firstAction: Action,
  lastOp: ChangeOp,
  lastCategory: Category,
  lastAction: Action,
];

/** Per expression of a seq range, the first and the last of its entry rows, sorted by expression. */
const NET_ROWS_SQL = `SELECT g.expression, f.op, f.category, f.action, l.op, l.category, l.action
    FROM (SELECT expression, min(seq) AS fs, max(seq) AS ls FROM changes
          WHERE seq > ? AND seq <= ? AND op IN ('add', 'remove') GROUP BY expression) g
    JOIN changes f ON f.seq = g.fs JOIN changes l ON l.seq = g.ls
    ORDER BY g.expression`;

/**
 * The net changes from version `from` to `to` (a delta's content), sorted by expression, a remove before an add
 * of the same expression. Per expression only the first and last row in the range matter: add..remove cancels;
 * remove..add is a change of category/action (remove the old, add the new) or nothing when they are equal.
 * Decision rows (`revoke`, `unrelease`, ...) change no entry and are left out.
 * Grouping happens in SQLite, so memory stays bounded for any range; consume it like `activeEntries`.
 */
export function netChanges(store: Store, from: number, to: number): Generator<Change> {
  const [afterSeq, upToSeq] = seqRange(store, from, to);
  return netChangeRows(store, afterSeq, upToSeq);
}

function seqRange(store: Store, from: number, to: number): [afterSeq: number, upToSeq: number] {
  const current = store.currentVersion();
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to || to > current) {
    throw new VersionRangeError(`version range ${from}..${to} is not within 0..${current} in order`);
  }
  return [seqAtVersion(store, from), seqAtVersion(store, to)];
}

function* netChangeRows(store: Store, afterSeq: number, upToSeq: number): Generator<Change> {
  for (const row of store.stmt(NET_ROWS_SQL).raw().iterate(afterSeq, upToSeq)) yield* netOf(row as NetRow);
}

/** What an expression's first and last rows in a range amount to: nothing, an add, a remove, or both. */
function netOf([expression, fOp, fCategory, fAction, lOp, lCategory, lAction]: NetRow): Change[] {
  const kind = kindOf(expression);
  const before: Change = { op: 'remove', expression, kind, category: fCategory, action: fAction };
  const after: Change = { op: 'add', expression, kind, category: lCategory, action: lAction };
  if (fOp === 'add') return lOp === 'add' ? [after] : [];
  if (lOp === 'remove') return [before];
  return fCategory !== lCategory || fAction !== lAction ? [before, after] : [];
}

/** Change-log rows `netChangesInSteps` reads per step: a few milliseconds of SQLite at any registry size. */
export const NET_CHANGE_PAGE_ROWS = 4096;
/** Rows of two sorted pages merged per step. */
const MERGE_ROWS_PER_STEP = 16_384;

/**
 * `netChanges(from, to)` as one sorted list, read in bounded steps so a large version does not hold the event
 * loop: each step reads the rows of at most `pageRows` change-log seqs (grouped and sorted per page by SQLite)
 * or merges a bounded slice of two adjacent pages; the caller turns the loop between steps. The list it returns
 * equals `[...netChanges(from, to)]`. The log is append-only and a committed version's rows never change, so
 * the pages need no common read transaction.
 */
export function* netChangesInSteps(
  store: Store,
  from: number,
  to: number,
  pageRows = NET_CHANGE_PAGE_ROWS,
): Generator<void, Change[]> {
  if (!Number.isSafeInteger(pageRows) || pageRows < 1)
    throw new RangeError(`pageRows ${pageRows} is not a positive integer`);
  const [afterSeq, upToSeq] = seqRange(store, from, to);
  // Pages cover consecutive seq ranges, oldest first; like a binary counter, two pages covering as many
  // seqs are merged into one, so every row takes part in O(log pages) merges.
  const stack: { rows: NetRow[]; pages: number }[] = [];
  for (let seq = afterSeq; seq < upToSeq; seq += pageRows) {
    const rows = store
      .stmt(NET_ROWS_SQL)
      .raw()
      .all(seq, Math.min(seq + pageRows, upToSeq)) as NetRow[];
    let run = { rows, pages: 1 };
    yield;
    for (let top = stack.at(-1); top && top.pages === run.pages; top = stack.at(-1)) {
      stack.pop();
      run = { rows: yield* mergePages(top.rows, run.rows), pages: top.pages + run.pages };
    }
    stack.push(run);
  }
  let rows: NetRow[] = [];
  for (let run = stack.pop(); run; run = stack.pop()) rows = yield* mergePages(run.rows, rows);
  return rows.flatMap(netOf);
}

/**
 * Two pages sorted by expression, `older` covering the seqs just before `newer`, as one: an expression in both
 * takes its first row from the older and its last from the newer.
 */
function* mergePages(older: NetRow[], newer: NetRow[]): Generator<void, NetRow[]> {
  if (older.length === 0) return newer;
  if (newer.length === 0) return older;
  const merged: NetRow[] = [];
  let i = 0;
  let j = 0;
  while (i < older.length || j < newer.length) {
    const a = older[i];
    const b = newer[j];
    // Expressions are printable ASCII: JavaScript's string order is SQLite's byte order.
    if (b === undefined || (a !== undefined && a[0] < b[0])) {
      merged.push(a as NetRow);
      i++;
    } else if (a === undefined || b[0] < a[0]) {
      merged.push(b);
      j++;
    } else {
      merged.push([a[0], a[1], a[2], a[3], b[4], b[5], b[6]]);
      i++;
      j++;
    }
    if (merged.length % MERGE_ROWS_PER_STEP === 0) yield;
  }
  return merged;
}
