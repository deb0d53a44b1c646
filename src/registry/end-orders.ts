/** Writes that take entries away: revoking an order or an entry, expiry sweeps; and extending an order. */

import { parseTarget } from '../core/target.ts';
import type { Action, Category } from '../core/types.ts';
import type { ChangeAppender, Decision } from './change-log.ts';
import { lapsePending, nextPendingLapse } from './four-eyes.ts';
import { toIsoTime } from './order-input.ts';
import { getEntry, getOrder } from './queries.ts';
import { releaseExpression } from './released.ts';
import { failure, type Store, success } from './store.ts';
import type { Entry, Order, RegistryResult, VersionKind, WriteOutcome } from './types.ts';

const PAGE = 512;

type Held = [id: number, expression: string, category: Category, action: Action];
type Holder = [id: number, reference: string, category: Category, action: Action];

/** Why orders ended, for their change-log rows; `release` also puts the entries they drop on the released list. */
interface Ending extends Decision {
  actor: string;
}

/**
 * After `ended` orders stopped being active (their rows already updated), moves each entry whose effective
 * order was one of them to its oldest remaining active order, or deactivates it (keeping the order as its
 * last). Only real transitions are logged: a new effective order with the same category and action changes
 * nothing a consumer sees.
 */
function releaseEntries(
  store: Store,
  ended: Order[],
  version: number,
  changes: ChangeAppender,
  why: Ending = { actor: 'system' },
): void {
  const page = store.stmt(
    `SELECT e.id, e.expression, e.category, e.action FROM order_entries l JOIN entries e ON e.id = l.entry_id
     WHERE l.order_id = ? AND l.entry_id > ? AND e.order_id = ? AND e.active = 1 ORDER BY l.entry_id
     LIMIT ${PAGE}`,
  );
  const nextHolder = store.stmt(
    `SELECT o.id, o.reference, o.category, o.action FROM order_entries l JOIN orders o ON o.id = l.order_id
     WHERE l.entry_id = ? AND l.active = 1 AND o.status = 'active' ORDER BY o.id LIMIT 1`,
  );
  const deactivate = store.stmt('UPDATE entries SET active = 0, last_version = ? WHERE expression = ?');
  const decision: Decision = { reason: why.reason ?? '', release: why.release ?? false };
  const moveTo = store.stmt(
    'UPDATE entries SET order_id = ?, category = ?, action = ?, last_version = ? WHERE expression = ?',
  );
  const moveQuietly = store.stmt('UPDATE entries SET order_id = ? WHERE expression = ?');
  for (const order of ended) {
    const from = { id: order.id, reference: order.reference };
    for (let after = 0; ; ) {
      const rows = page.raw().all(order.id, after, order.id) as Held[];
      if (rows.length === 0) break;
      for (const [id, expression, category, action] of rows) {
        after = id;
        const next = nextHolder.raw().get(id) as Holder | undefined;
        if (next === undefined) {
          deactivate.run(version, expression);
          changes.append('remove', expression, category, action, from, '', decision);
          if (why.release)
            releaseExpression(store, expression, order.id, version, why.reason ?? '', why.actor);
        } else if (next[2] === category && next[3] === action) {
          moveQuietly.run(next[0], expression);
        } else {
          moveTo.run(next[0], next[2], next[3], version, expression);
          changes.append('remove', expression, category, action, from, '', { reason: decision.reason });
          changes.append('add', expression, next[2], next[3], { id: next[0], reference: next[1] }, '', {
            reason: decision.reason,
          });
        }
      }
      changes.flush();
    }
  }
}

/** Inside a write transaction: makes one new version around `write`. */
function inVersion(
  store: Store,
  kind: VersionKind,
  actor: string,
  summary: string,
  write: (version: number, changes: ChangeAppender) => void,
): WriteOutcome {
  const version = store.beginVersion(kind, actor, summary);
  const changes = store.changeAppender(version, actor);
  write(version, changes);
  store.finishVersion(version, changes);
  return { version, adds: changes.adds, removes: changes.removes };
}

function activeOrder(store: Store, id: number): RegistryResult<Order> {
  const order = getOrder(store, id);
  if (order === null) return failure('not_found', `order ${id} does not exist`);
  if (order.status !== 'active') return failure('conflict', `order ${id} is ${order.status}, not active`);
  return success(order);
}

/**
 * Revokes an active order: entries it alone held are removed, others move to their next oldest order. With
 * `release` (a false positive), the entries it removes go on the released list. The reason is in the chain: on
 * a `revoke` row for the order and on every row the revocation writes.
 */
export function revokeOrder(
  store: Store,
  id: number,
  reason: string,
  actor: string,
  options: { release?: boolean } = {},
): RegistryResult<WriteOutcome> {
  if (typeof reason !== 'string' || reason.trim() === '') {
    return failure('invalid_input', 'a revocation needs a reason');
  }
  const why: Ending = { actor, reason: reason.trim(), release: options.release === true };
  return store.write(() => {
    const found = activeOrder(store, id);
    if (!found.ok) return found;
    const order = found.value;
    const summary = `${why.release ? 'release' : 'revoke'} order ${order.reference} (#${id})`;
    return success(
      inVersion(store, 'revoke', actor, summary, (version, changes) => {
        store
          .stmt(
            `UPDATE orders SET status = 'revoked', revoked_at = ?, revoke_reason = ?, ended_version = ?,
               released = ? WHERE id = ?`,
          )
          .run(store.nowIso(), why.reason, version, why.release ? 1 : 0, id);
        store.logOrderEvent(version, 'order-revoked', id, why.reason);
        changes.append('revoke', '', order.category, order.action, order, '', why);
        releaseEntries(store, [order], version, changes, why);
      }),
    );
  });
}

/**
 * Removes one entry from every order holding it (by id, exact expression, or any target form that canonicalizes
 * to it). The orders stay active; a later order may list the entry again, unless `release` put it on the
 * released list (a false positive).
 */
export function revokeEntry(
  store: Store,
  idOrTarget: number | string,
  reason: string,
  actor: string,
  options: { release?: boolean } = {},
): RegistryResult<WriteOutcome & { entry: Entry }> {
  if (typeof reason !== 'string' || reason.trim() === '') {
    return failure('invalid_input', 'a revocation needs a reason');
  }
  return store.write(() => {
    let entry = getEntry(store, idOrTarget);
    if (entry === null && typeof idOrTarget === 'string') {
      const t = parseTarget(idOrTarget);
      if (t.ok) entry = getEntry(store, t.value.expression);
    }
    if (entry === null) return failure('not_found', `no entry matches '${String(idOrTarget)}'`);
    if (!entry.active || entry.orderId === null) {
      return failure('conflict', `entry '${entry.expression}' is not active`);
    }
    const e = entry;
    const holder = getOrder(store, e.orderId as number) as Order;
    const release = options.release === true;
    const outcome = inVersion(
      store,
      'revoke-entry',
      actor,
      `${release ? 'release' : 'revoke'} entry ${e.expression}`,
      (version, changes) => {
        store
          .stmt(
            `UPDATE order_entries SET active = 0, removed_reason = ?, removed_version = ?
           WHERE entry_id = ? AND active = 1`,
          )
          .run(reason.trim(), version, e.id);
        store
          .stmt('UPDATE entries SET active = 0, last_version = ? WHERE expression = ?')
          .run(version, e.expression);
        const note = JSON.stringify({ reason: reason.trim() });
        changes.append('remove', e.expression, e.category, e.action, holder, note, {
          reason: reason.trim(),
          release,
        });
        if (release) releaseExpression(store, e.expression, holder.id, version, reason.trim(), actor);
      },
    );
    return success({ ...outcome, entry: getEntry(store, e.id) as Entry });
  });
}

/**
 * Sets a new expiry (or none, with null) on an active order. It never re-activates an ended order; an expiry
 * moved into the past takes effect at the next `expireDue` sweep. An `extend` row records it in the chain
 * (note `{"expiresAt"}`, the reason if given).
 */
export function extendOrder(
  store: Store,
  id: number,
  expiresAt: string | Date | null,
  actor: string,
  reason = '',
): RegistryResult<WriteOutcome & { order: Order }> {
  const iso = expiresAt === null ? null : toIsoTime(expiresAt, store.timeZone);
  if (expiresAt !== null && iso === null) {
    return failure('invalid_input', `expiresAt '${String(expiresAt)}' is not a valid time`);
  }
  return store.write(() => {
    const found = activeOrder(store, id);
    if (!found.ok) return found;
    const order = found.value;
    const summary = `order ${order.reference} (#${id}) expires ${iso ?? 'never'}`;
    const outcome = inVersion(store, 'extend', actor, summary, (version, changes) => {
      store.stmt('UPDATE orders SET expires_at = ? WHERE id = ?').run(iso, id);
      const note = JSON.stringify({ expiresAt: iso });
      store.logOrderEvent(version, 'order-extended', id);
      changes.append('extend', '', order.category, order.action, order, note, { reason: reason.trim() });
    });
    return success({ ...outcome, order: getOrder(store, id) as Order });
  });
}

/** When the next active order expires or the next pending order's approval window closes; null when none. */
export function nextExpiry(store: Store): Date | null {
  const due = store
    .stmt(`SELECT min(expires_at) FROM orders WHERE status = 'active' AND expires_at IS NOT NULL`)
    .pluck()
    .get() as string | null;
  const lapse = nextPendingLapse(store);
  const at = due === null ? lapse : lapse === null || due < lapse ? due : lapse;
  return at === null ? null : new Date(at);
}

/**
 * Expires every active order whose expiry is at or before `now`, releasing their entries in ONE new version
 * (kind `expire`). Returns null when nothing was due, or while an import holds the registry.
 */
export function expireDue(
  store: Store,
  now: Date = store.now(),
): (WriteOutcome & { orders: number[] }) | null {
  const nowIso = now.toISOString();
  // Pending orders nobody decided on lapse without a version: they never changed the registry.
  if (nextPendingLapse(store) !== null) store.write(() => success(lapsePending(store, now)));
  const due = () =>
    store
      .stmt(
        `SELECT id FROM orders WHERE status = 'active' AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY id`,
      )
      .pluck()
      .all(nowIso) as number[];
  if (due().length === 0) return null;
  const swept = store.write(() => {
    const ids = due();
    if (ids.length === 0) return success(null);
    const outcome = inVersion(
      store,
      'expire',
      'system',
      `expire ${ids.length} order(s)`,
      (version, changes) => {
        const end = store.stmt(`UPDATE orders SET status = 'expired', ended_version = ? WHERE id = ?`);
        for (const id of ids) {
          end.run(version, id);
          store.logOrderEvent(version, 'order-expired', id);
        }
        releaseEntries(
          store,
          ids.map((id) => getOrder(store, id) as Order),
          version,
          changes,
        );
      },
    );
    return success({ ...outcome, orders: ids });
  });
  // Blocked or busy: the caller's timer tries again.
  return swept.ok ? swept.value : null;
}
