/** New orders: `createOrder` for an API request, `beginImport` for a bulk list streamed in chunks. */

import { type ValidOrder, validateOrder } from './order-input.ts';
import { type AcceptedTarget, OrderWriter } from './order-writer.ts';
import { getOrder } from './queries.ts';
import { kindOf } from './rows.ts';
import { acceptTarget } from './screen.ts';
import { busyAsFailure, failure, type Store, success } from './store.ts';
import type { CreatedOrder, OrderInput, RegistryResult, TargetResult } from './types.ts';

const isRejection = (r: AcceptedTarget | TargetResult): r is TargetResult => 'status' in r;

/**
 * Creates an order atomically: if any target is rejected nothing is written and the failure
 * (`targets_rejected`) carries every target's result; otherwise one transaction writes the order, its entries
 * and change-log rows and one new version.
 */
export function createOrder(store: Store, input: OrderInput, actor: string): RegistryResult<CreatedOrder> {
  const valid = validateOrder(input, store.now());
  if (!valid.ok) return valid;
  const order = valid.value;
  const targets: unknown = input.targets;
  if (!Array.isArray(targets) || targets.length === 0) {
    return failure('invalid_input', 'targets must be a non-empty array of strings');
  }
  const results: TargetResult[] = [];
  const accepted: AcceptedTarget[] = [];
  const acceptedAt: number[] = [];
  const seen = new Set<string>();
  let rejected = 0;
  for (const target of targets) {
    if (typeof target !== 'string') {
      rejected++;
      results.push({
        target: String(target),
        status: 'rejected',
        code: 'invalid_input',
        message: 'target is not a string',
      });
      continue;
    }
    const a = acceptTarget(target, store.protectedDomains, order.override !== null);
    if (isRejection(a)) {
      rejected++;
      results.push(a);
      continue;
    }
    const { expression } = a;
    const kind = kindOf(expression);
    const rails = a.rails.length > 0 ? { rails: [...a.rails] } : {};
    if (seen.has(expression)) {
      results.push({ target, kind, expression, status: 'duplicate', ...rails });
      continue;
    }
    seen.add(expression);
    acceptedAt.push(results.length);
    results.push({ target, kind, expression, status: 'accepted', ...rails });
    accepted.push(a);
  }
  if (rejected > 0) {
    return failure(
      'targets_rejected',
      `${rejected} of ${targets.length} targets rejected; nothing was written`,
      results,
    );
  }
  const w = store.write(() => {
    const version = store.beginVersion('order', actor, `order ${order.reference}`);
    const writer = new OrderWriter(store, order, version, actor);
    const statuses = writer.write(accepted);
    writer.finish();
    return success({ version, orderId: writer.orderId, statuses, adds: writer.changes.adds });
  });
  if (!w.ok) return w;
  const written = w.value;
  written.statuses.forEach((status, i) => {
    (results[acceptedAt[i] as number] as TargetResult).status = status;
  });
  const created = getOrder(store, written.orderId);
  if (created === null) throw new Error(`order ${written.orderId} vanished after it was written`);
  return success({ order: created, version: written.version, adds: written.adds, removes: 0, results });
}

/** Counts of one `ImportSession.add` call, with the targets it refused (not written). */
export interface ImportChunkResult {
  added: number;
  alreadyActive: number;
  duplicate: number;
  rejected: TargetResult[];
}

/** What a committed import produced. */
export interface ImportOutcome extends CreatedOrder {
  totals: { added: number; alreadyActive: number; duplicate: number; rejected: number };
}

/**
 * A bulk import: ONE order and ONE version written inside one SQLite transaction that spans every `add()`, so
 * a crash (even SIGKILL) at any point leaves the whole order or none of it. Rejected targets are skipped and
 * reported; the caller decides whether to `commit()` or `abort()`. While a session is open, other writes
 * through the same registry fail with `import_in_progress`, and its reads see the uncommitted rows.
 */
export class ImportSession {
  private writer: OrderWriter | null;
  private readonly totals = { added: 0, alreadyActive: 0, duplicate: 0, rejected: 0 };

  /** Use `Registry.beginImport`. */
  constructor(
    private readonly store: Store,
    private readonly order: ValidOrder,
    actor: string,
  ) {
    store.db.exec('BEGIN IMMEDIATE');
    store.importOpen = true;
    try {
      const version = store.beginVersion('import', actor, `import ${order.reference}`);
      this.writer = new OrderWriter(store, order, version, actor);
    } catch (e) {
      this.rollback();
      throw e;
    }
  }

  get open(): boolean {
    return this.writer !== null;
  }

  /** Screens and writes one chunk of targets (any size; a few thousand per call is a good rhythm). */
  add(targets: readonly string[]): ImportChunkResult {
    const writer = this.active();
    const result: ImportChunkResult = { added: 0, alreadyActive: 0, duplicate: 0, rejected: [] };
    const accepted: AcceptedTarget[] = [];
    const overrides = this.order.override !== null;
    for (const target of targets) {
      const a = acceptTarget(target, this.store.protectedDomains, overrides);
      if (isRejection(a)) result.rejected.push(a);
      else accepted.push(a);
    }
    try {
      for (const status of writer.write(accepted)) {
        if (status === 'added') result.added++;
        else if (status === 'already-active') result.alreadyActive++;
        else result.duplicate++;
      }
    } catch (e) {
      this.rollback();
      throw e;
    }
    this.totals.added += result.added;
    this.totals.alreadyActive += result.alreadyActive;
    this.totals.duplicate += result.duplicate;
    this.totals.rejected += result.rejected.length;
    return result;
  }

  /** Writes the order's final row and the version, and commits: the whole import becomes visible at once. */
  commit(): ImportOutcome {
    const writer = this.active();
    try {
      writer.finish();
      this.store.db.exec('COMMIT');
    } catch (e) {
      this.rollback();
      throw e;
    }
    this.writer = null;
    this.store.importOpen = false;
    const order = getOrder(this.store, writer.orderId);
    if (order === null) throw new Error(`order ${writer.orderId} vanished after it was committed`);
    return {
      order,
      version: writer.version,
      adds: writer.changes.adds,
      removes: 0,
      results: [],
      totals: this.totals,
    };
  }

  /** Discards everything this import wrote. */
  abort(): void {
    if (this.writer !== null) this.rollback();
  }

  private active(): OrderWriter {
    if (this.writer === null) throw new Error('this import session is already committed or aborted');
    return this.writer;
  }

  private rollback(): void {
    this.writer = null;
    this.store.importOpen = false;
    if (this.store.db.inTransaction) this.store.db.exec('ROLLBACK');
  }
}

/** Validates the order fields and opens an import session (see ImportSession). */
export function beginImport(
  store: Store,
  input: Omit<OrderInput, 'targets'>,
  actor: string,
): RegistryResult<ImportSession> {
  const blocked = store.writeBlocked();
  if (blocked) return { ok: false, error: blocked };
  if (store.db.inTransaction)
    return failure('import_in_progress', 'the registry is inside another transaction');
  const valid = validateOrder(input, store.now());
  if (!valid.ok) return valid;
  return busyAsFailure(() => success(new ImportSession(store, valid.value, actor)));
}
