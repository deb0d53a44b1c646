/** A second regulator's decision on a pending order: approval publishes it as one version, rejection ends it. */

import { countResults, type OrderOutcome, screenForOrder } from './create-order.ts';
import { lapsePending } from './four-eyes.ts';
import type { ValidOrder } from './order-input.ts';
import { type AcceptedTarget, OrderWriter } from './order-writer.ts';
import { getOrder } from './queries.ts';
import { releasedChecker } from './released.ts';
import { kindOf } from './rows.ts';
import { failure, type Store, success } from './store.ts';
import type { Order, OrderApproval, RegistryResult, TargetResult, WriteOutcome } from './types.ts';

/** Inside a write transaction: the pending order `id` that `actor` may decide on, or why not. */
function decidable(store: Store, id: number, actor: string): RegistryResult<Order> {
  lapsePending(store, store.now());
  const order = getOrder(store, id);
  if (order === null) return failure('not_found', `order ${id} does not exist`);
  if (order.status === 'expired' && order.approval?.decision === 'expired') {
    return failure('approval_expired', `order ${id} waited past ${order.approval.expiresAt} and expired`);
  }
  if (order.status !== 'pending') return failure('conflict', `order ${id} is ${order.status}, not pending`);
  if (order.createdBy === actor) {
    return failure('self_approval', `order ${id} was created by ${actor}: a second regulator decides on it`);
  }
  return success(order);
}

const validOrder = (o: Order): ValidOrder => ({
  reference: o.reference,
  authority: o.authority,
  category: o.category,
  action: o.action,
  reason: o.reason,
  issuedAt: o.issuedAt,
  expiresAt: o.expiresAt,
  override: o.override ? { reason: o.override.reason } : null,
});

function decision(order: Order, kind: 'approved' | 'rejected', actor: string, reason: string, at: string) {
  return { ...(order.approval as OrderApproval), decision: kind, by: actor, at, reason };
}

/**
 * Approves a pending order (never by its creator): its targets are screened again (the released and protected
 * lists may have changed while it waited) and written as ONE new version whose rows carry the approval.
 */
export function approveOrder(
  store: Store,
  id: number,
  reason: string,
  actor: string,
): RegistryResult<OrderOutcome> {
  if (typeof reason !== 'string' || reason.trim() === '')
    return failure('invalid_input', 'an approval needs a reason');
  return store.write(() => {
    const found = decidable(store, id, actor);
    if (!found.ok) return found;
    const order = found.value;
    const targets = store
      .stmt('SELECT target FROM pending_targets WHERE order_id = ? ORDER BY position')
      .pluck()
      .all(id) as string[];
    const released = releasedChecker(store);
    const overrides = order.override !== null;
    const results: TargetResult[] = [];
    const accepted: AcceptedTarget[] = [];
    const acceptedAt: number[] = [];
    for (const target of targets) {
      const a = screenForOrder(store, target, overrides, released);
      if ('status' in a) {
        results.push(a);
        continue;
      }
      acceptedAt.push(results.length);
      const rails = a.rails.length > 0 ? { rails: [...a.rails] } : {};
      results.push({
        target,
        kind: kindOf(a.expression),
        expression: a.expression,
        status: 'accepted',
        ...rails,
      });
      accepted.push(a);
    }
    if (accepted.length < targets.length) {
      return failure(
        'targets_rejected',
        `targets of order ${id} are refused now; nothing was written`,
        results,
      );
    }
    const approval = JSON.stringify(decision(order, 'approved', actor, reason.trim(), store.nowIso()));
    const version = store.beginVersion('approve', actor, `approve order ${order.reference} (#${id})`);
    const writer = new OrderWriter(store, validOrder(order), version, actor, {
      orderId: id,
      requestedBy: order.createdBy,
      approval,
    });
    writer.changes.append('approve', '', order.category, order.action, order, '', {
      reason: reason.trim(),
      approval,
    });
    writer.write(accepted).forEach((status, i) => {
      (results[acceptedAt[i] as number] as TargetResult).status = status;
    });
    writer.finish();
    return success({
      order: getOrder(store, id) as Order,
      version,
      adds: writer.changes.adds,
      removes: 0,
      results,
      pending: false,
      counts: countResults(results),
    });
  });
}

/** Rejects a pending order (never by its creator): a version with a `reject` row, no entry changes. */
export function rejectOrder(
  store: Store,
  id: number,
  reason: string,
  actor: string,
): RegistryResult<WriteOutcome & { order: Order }> {
  if (typeof reason !== 'string' || reason.trim() === '')
    return failure('invalid_input', 'a rejection needs a reason');
  return store.write(() => {
    const found = decidable(store, id, actor);
    if (!found.ok) return found;
    const order = found.value;
    const approval = JSON.stringify(decision(order, 'rejected', actor, reason.trim(), store.nowIso()));
    const version = store.beginVersion('reject', actor, `reject order ${order.reference} (#${id})`);
    const changes = store.changeAppender(version, actor);
    changes.append('reject', '', order.category, order.action, order, '', {
      reason: reason.trim(),
      approval,
    });
    store.stmt(`UPDATE orders SET status = 'rejected', approval = ? WHERE id = ?`).run(approval, id);
    store.finishVersion(version, changes);
    return success({ version, adds: 0, removes: 0, order: getOrder(store, id) as Order });
  });
}
