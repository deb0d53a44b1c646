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

/**
 * The net changes from version `from` to `to` (a delta's content), sorted by expression, a remove before an add
 * of the same expression. Per expression only the first and last row in the range matter: add..remove cancels;
 * remove..add is a change of category/action (remove the old, add the new) or nothing when they are equal.
 * Decision rows (`revoke`, `unrelease`, ...) change no entry and are left out.
 * Grouping happens in SQLite, so memory stays bounded for any range; consume it like `activeEntries`.
 */
export function netChanges(store: Store, from: number, to: number): Generator<Change> {
  const current = store.currentVersion();
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to || to > current) {
    throw new VersionRangeError(`version range ${from}..${to} is not within 0..${current} in order`);
  }
  return netChangeRows(store, seqAtVersion(store, from), seqAtVersion(store, to));
}

function* netChangeRows(store: Store, afterSeq: number, upToSeq: number): Generator<Change> {
  const sql = `SELECT g.expression, f.op, f.category, f.action, l.op, l.category, l.action
    FROM (SELECT expression, min(seq) AS fs, max(seq) AS ls FROM changes
          WHERE seq > ? AND seq <= ? AND op IN ('add', 'remove') GROUP BY expression) g
    JOIN changes f ON f.seq = g.fs JOIN changes l ON l.seq = g.ls
    ORDER BY g.expression`;
  const rows = store.db.prepare(sql).raw().iterate(afterSeq, upToSeq);
  for (const r of rows) {
    const [expression, fOp, fCategory, fAction, lOp, lCategory, lAction] = r as NetRow;
    const kind = kindOf(expression);
    const before: Change = { op: 'remove', expression, kind, category: fCategory, action: fAction };
    const after: Change = { op: 'add', expression, kind, category: lCategory, action: lAction };
    if (fOp === 'add') {
      if (lOp === 'add') yield after;
    } else if (lOp === 'remove') {
      yield before;
    } else if (fCategory !== lCategory || fAction !== lAction) {
      yield before;
      yield after;
    }
  }
}
