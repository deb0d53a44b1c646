/** New orders: `createOrder` for an API request, `beginImport` for a bulk list streamed in chunks. */

import { approvalReasons, crowdingDomains, type EntriesUnder } from './four-eyes.ts';
import { tuneForImport } from './import-tuning.ts';
import { type ValidOrder, validateOrder } from './order-input.ts';
import { type AcceptedTarget, insertOrder, OrderWriter } from './order-writer.ts';
import { getOrder } from './queries.ts';
import { releasedChecker, releasedRejection } from './released.ts';
import { kindOf } from './rows.ts';
import { acceptTarget } from './screen.ts';
import { busyAsFailure, failure, type Store, success } from './store.ts';
import type {
  ApprovalReason,
  CreatedOrder,
  Order,
  OrderApproval,
  OrderInput,
  RegistryResult,
  ReleasedTarget,
  TargetResult,
} from './types.ts';

const isRejection = (r: AcceptedTarget | TargetResult): r is TargetResult => 'status' in r;

/**
 * Screens one target for the write path: parse and rails (screen.ts), then the released list. A released
 * target passes only with an override, as one more overridden rail.
 */
export function screenForOrder(
  store: Store,
  target: string,
  overrides: boolean,
  released: (expression: string) => ReleasedTarget | null,
): AcceptedTarget | TargetResult {
  const a = acceptTarget(target, store.protectedDomains, overrides);
  if (isRejection(a)) return a;
  const r = released(a.expression);
  if (r === null) return a;
  return overrides
    ? { expression: a.expression, rails: [...a.rails, 'released'] }
    : releasedRejection(target, r);
}

/** Per-code counts of an order's results: what an import report and the API show. */
export interface ResultCounts {
  added: number;
  alreadyActive: number;
  duplicate: number;
  pending: number;
  rejected: number;
  /** Rejected targets per code (`invalid_host`, `released`, ...). */
  rejectedByCode: Record<string, number>;
}

export function countResults(results: readonly TargetResult[]): ResultCounts {
  const c: ResultCounts = {
    added: 0,
    alreadyActive: 0,
    duplicate: 0,
    pending: 0,
    rejected: 0,
    rejectedByCode: {},
  };
  for (const r of results) {
    if (r.status === 'added') c.added++;
    else if (r.status === 'already-active') c.alreadyActive++;
    else if (r.status === 'duplicate') c.duplicate++;
    else if (r.status === 'pending') c.pending++;
    else if (r.status === 'rejected') {
      c.rejected++;
      const code = r.code ?? 'rejected';
      c.rejectedByCode[code] = (c.rejectedByCode[code] ?? 0) + 1;
    }
  }
  return c;
}

/** `3 invalid_host, 1 released` */
export const describeCodes = (byCode: Record<string, number>): string =>
  Object.entries(byCode)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');

interface Screening {
  results: TargetResult[];
  accepted: AcceptedTarget[];
  /** Index in `results` of each accepted target. */
  acceptedAt: number[];
  rejected: number;
}

function screenOrder(store: Store, targets: readonly unknown[], overrides: boolean): Screening {
  const released = releasedChecker(store);
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
    const a = screenForOrder(store, target, overrides, released);
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
  return { results, accepted, acceptedAt, rejected };
}

const rejectedFailure = (s: Screening, total: number) =>
  failure<never>(
    'targets_rejected',
    `${s.rejected} of ${total} targets rejected (${describeCodes(countResults(s.results).rejectedByCode)}); nothing was written`,
    s.results,
  );

/** What `POST /v1/orders?dryRun=true` answers: the order as it would go, nothing written. */
export interface DryRun {
  /** The version it would be written after (the current one). */
  version: number;
  results: TargetResult[];
  counts: ResultCounts;
  /** Whether it would wait for a second regulator, and why. */
  approval: { required: boolean; reasons: ApprovalReason[] };
  /** It would be refused as a whole (`targets_rejected`). */
  refused: boolean;
}

/** The created order (or the pending one: its version is then the unchanged current version). */
export interface OrderOutcome extends CreatedOrder {
  pending: boolean;
  counts: ResultCounts;
}

/**
 * Creates an order atomically: if any target is rejected nothing is written and the failure
 * (`targets_rejected`) carries every target's result; when the order crosses a four-eyes threshold it is
 * stored as `pending` (no version, no entry, in no feed) for a second regulator; otherwise one transaction
 * writes the order, its entries and change-log rows and one new version. `counted`: entries under the
 * order's registrable domains, counted beforehand off the event loop (see orderCrowdingDomains).
 */
export function createOrder(
  store: Store,
  input: OrderInput,
  actor: string,
  counted?: EntriesUnder,
): RegistryResult<OrderOutcome> {
  const valid = validateOrder(input, store.now(), store.timeZone);
  if (!valid.ok) return valid;
  const order = valid.value;
  const targets: unknown = input.targets;
  if (!Array.isArray(targets) || targets.length === 0) {
    return failure('invalid_input', 'targets must be a non-empty array of strings');
  }
  const s = screenOrder(store, targets, order.override !== null);
  if (s.rejected > 0) return rejectedFailure(s, targets.length);
  const { results, accepted, acceptedAt } = s;
  const reasons = approvalReasons(store, store.fourEyes, accepted, targets.length, counted);
  if (reasons.length > 0) return createPending(store, order, targets as string[], actor, reasons, s);
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
  return success({
    order: created,
    version: written.version,
    adds: written.adds,
    removes: 0,
    results,
    pending: false,
    counts: countResults(results),
  });
}

/** Stores an order that waits for a second regulator: its row (no version) and its targets as submitted. */
function createPending(
  store: Store,
  order: ValidOrder,
  targets: readonly string[],
  actor: string,
  reasons: ApprovalReason[],
  s: Screening,
): RegistryResult<OrderOutcome> {
  const approval: OrderApproval = {
    reasons,
    requestedBy: actor,
    expiresAt: new Date(store.now().getTime() + (store.fourEyes?.pendingTtlMs ?? 0)).toISOString(),
  };
  const w = store.write(() => {
    const id = insertOrder(store, order, actor, {
      version: null,
      status: 'pending',
      override: order.override
        ? JSON.stringify({ reason: order.override.reason, actor, rails: [], targets: [] })
        : null,
      entryCount: s.accepted.length,
      approval: JSON.stringify(approval),
    });
    const insert = store.stmt('INSERT INTO pending_targets (order_id, position, target) VALUES (?, ?, ?)');
    targets.forEach((target, i) => {
      insert.run(id, i, target);
    });
    return success(id);
  });
  if (!w.ok) return w;
  for (const i of s.acceptedAt) (s.results[i] as TargetResult).status = 'pending';
  return success({
    order: getOrder(store, w.value) as Order,
    version: store.currentVersion(),
    adds: 0,
    removes: 0,
    results: s.results,
    pending: true,
    counts: countResults(s.results),
  });
}

/**
 * The registrable domains whose entries the four-eyes policy counts for this order (see crowdingDomains),
 * from its targets as screening accepts them; empty when the order is invalid or the policy does not look.
 */
export function orderCrowdingDomains(store: Store, input: OrderInput): string[] {
  const targets: unknown = input.targets;
  if (!Array.isArray(targets) || store.fourEyes === null) return [];
  const accepted: AcceptedTarget[] = [];
  for (const target of targets) {
    if (typeof target !== 'string') continue;
    const a = acceptTarget(target, store.protectedDomains, Boolean(input.override));
    if (!isRejection(a)) accepted.push(a);
  }
  return [...crowdingDomains(store.fourEyes, accepted, targets.length)];
}

/** Everything `createOrder` would do, written nowhere (`counted` as for createOrder). */
export function dryRunOrder(store: Store, input: OrderInput, counted?: EntriesUnder): RegistryResult<DryRun> {
  const valid = validateOrder(input, store.now(), store.timeZone);
  if (!valid.ok) return valid;
  const targets: unknown = input.targets;
  if (!Array.isArray(targets) || targets.length === 0) {
    return failure('invalid_input', 'targets must be a non-empty array of strings');
  }
  const s = screenOrder(store, targets, valid.value.override !== null);
  const active = store.stmt('SELECT active FROM entries WHERE expression = ?').pluck();
  s.accepted.forEach((t, i) => {
    (s.results[s.acceptedAt[i] as number] as TargetResult).status =
      active.get(t.expression) === 1 ? 'already-active' : 'added';
  });
  const reasons = approvalReasons(store, store.fourEyes, s.accepted, targets.length, counted);
  return success({
    version: store.currentVersion(),
    results: s.results,
    counts: countResults(s.results),
    approval: { required: reasons.length > 0, reasons },
    refused: s.rejected > 0,
  });
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
  private readonly counted = { added: 0, alreadyActive: 0, duplicate: 0, rejected: 0 };
  private readonly untune: () => void;

  /** Use `Registry.beginImport`. */
  constructor(
    private readonly store: Store,
    private readonly order: ValidOrder,
    actor: string,
  ) {
    this.untune = tuneForImport(store.db);
    try {
      store.db.exec('BEGIN IMMEDIATE');
    } catch (e) {
      this.untune();
      throw e;
    }
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
    const released = releasedChecker(this.store);
    for (const target of targets) {
      const a = screenForOrder(this.store, target, overrides, released);
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
    this.counted.added += result.added;
    this.counted.alreadyActive += result.alreadyActive;
    this.counted.duplicate += result.duplicate;
    this.counted.rejected += result.rejected.length;
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
    this.untune();
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

  /** The counts so far (what `commit` would report). */
  get totals(): ImportOutcome['totals'] {
    return { ...this.counted };
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
    this.untune();
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
  const valid = validateOrder(input, store.now(), store.timeZone);
  if (!valid.ok) return valid;
  return busyAsFailure(() => success(new ImportSession(store, valid.value, actor)));
}
