/**
 * The released list: targets revoked as false positives. An order or import naming one is refused per target
 * (`released`) unless it carries an override; a regulator can un-release one (a decision row in the chain).
 */

import { parseTarget } from '../core/target.ts';
import type { Action, Category } from '../core/types.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { pageSize } from './queries.ts';
import { RELEASED_COLUMNS, toReleased } from './rows.ts';
import { failure, type Store, success } from './store.ts';
import type { Page, RegistryResult, ReleasedTarget, TargetResult, WriteOutcome } from './types.ts';

/** Inside a write transaction: puts `expression` on the released list (again, if it was un-released). */
export function releaseExpression(
  store: Store,
  expression: string,
  orderId: number,
  version: number,
  reason: string,
  actor: string,
): void {
  store
    .stmt(
      `INSERT INTO released (expression, active, order_id, version, released_at, released_by, reason)
       VALUES (?, 1, ?, ?, ?, ?, ?)
       ON CONFLICT (expression) DO UPDATE SET active = 1, order_id = excluded.order_id,
         version = excluded.version, released_at = excluded.released_at, released_by = excluded.released_by,
         reason = excluded.reason, unreleased_at = NULL, unreleased_by = NULL, unreleased_reason = NULL,
         unreleased_version = NULL`,
    )
    .run(expression, orderId, version, store.nowIso(), actor, reason);
}

/** The released-list row of an expression (active or not), or null. */
export function releasedOf(store: Store, expression: string): ReleasedTarget | null {
  const row = store.stmt(`SELECT ${RELEASED_COLUMNS} FROM released r WHERE r.expression = ?`).get(expression);
  return row === undefined ? null : toReleased(row);
}

/**
 * Checks targets against the released list. `check` answers the release in force for an expression, or null;
 * when nothing is released (the usual case) it costs nothing per target.
 */
export function releasedChecker(store: Store): (expression: string) => ReleasedTarget | null {
  const any = store.stmt('SELECT EXISTS (SELECT 1 FROM released WHERE active = 1)').pluck().get() === 1;
  if (!any) return () => null;
  return (expression) => {
    const r = releasedOf(store, expression);
    return r?.active ? r : null;
  };
}

/** The per-target refusal of a released expression, naming the release. */
export function releasedRejection(target: string, r: ReleasedTarget): TargetResult {
  return {
    target,
    kind: r.kind,
    expression: r.expression,
    status: 'rejected',
    code: 'released',
    message:
      `'${r.expression}' was released as a false positive from order ${r.orderId} on ${r.releasedAt} ` +
      `(${r.reason}); an order naming it again needs an override with its own reason`,
    rails: ['released'],
    release: { orderId: r.orderId, version: r.version, releasedAt: r.releasedAt, reason: r.reason },
  };
}

export interface ReleasedQuery {
  cursor?: string;
  limit?: number;
  /** Substring of the expression. */
  q?: string;
  /** Default: only those in force. */
  active?: boolean;
}

const likeEscape = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The released list sorted by expression, keyset pages. */
export function listReleased(store: Store, q: ReleasedQuery = {}): RegistryResult<Page<ReleasedTarget>> {
  const limit = pageSize(q.limit);
  if (!limit.ok) return limit;
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.cursor !== undefined) {
    const after = decodeCursor(q.cursor, 'released', 'string');
    if (!after.ok) return after;
    where.push('r.expression > ?');
    params.push(after.value);
  }
  if (q.q !== undefined && q.q !== '') {
    where.push("r.expression LIKE ? ESCAPE '\\'");
    params.push(`%${likeEscape(q.q)}%`);
  }
  if (q.active !== undefined) {
    where.push('r.active = ?');
    params.push(q.active ? 1 : 0);
  }
  const items = store
    .stmt(
      `SELECT ${RELEASED_COLUMNS} FROM released r ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY r.expression LIMIT ?`,
    )
    .all(...params, limit.value)
    .map(toReleased);
  const last = items[items.length - 1];
  return success({
    items,
    nextCursor: items.length === limit.value && last ? encodeCursor('released', last.expression) : null,
  });
}

/**
 * Takes a target off the released list (by expression or any target form of it), in a new version with an
 * `unrelease` row in the chain: orders may name it again without an override.
 */
export function unrelease(
  store: Store,
  target: string,
  reason: string,
  actor: string,
): RegistryResult<WriteOutcome & { released: ReleasedTarget }> {
  if (typeof reason !== 'string' || reason.trim() === '') {
    return failure('invalid_input', 'un-releasing needs a reason');
  }
  const parsed = parseTarget(target);
  const expression = parsed.ok ? parsed.value.expression : target;
  return store.write(() => {
    const r = releasedOf(store, expression);
    if (r === null || !r.active) return failure('not_found', `'${target}' is not on the released list`);
    const entry = store.stmt('SELECT category, action FROM entries WHERE expression = ?').get(expression) as
      | { category: Category; action: Action }
      | undefined;
    const order = store
      .stmt('SELECT id, reference, category, action FROM orders WHERE id = ?')
      .get(r.orderId) as {
      id: number;
      reference: string;
      category: Category;
      action: Action;
    };
    const version = store.beginVersion('unrelease', actor, `un-release ${expression}`);
    const changes = store.changeAppender(version, actor);
    changes.append(
      'unrelease',
      expression,
      entry?.category ?? order.category,
      entry?.action ?? order.action,
      order,
      '',
      { reason: reason.trim() },
    );
    store
      .stmt(
        `UPDATE released SET active = 0, unreleased_at = ?, unreleased_by = ?, unreleased_reason = ?,
           unreleased_version = ? WHERE expression = ?`,
      )
      .run(store.nowIso(), actor, reason.trim(), version, expression);
    store.finishVersion(version, changes);
    return success({
      version,
      adds: 0,
      removes: 0,
      released: releasedOf(store, expression) as ReleasedTarget,
    });
  });
}
