/** Writes an order's accepted targets: entries, links and change-log rows, in batches, inside one transaction. */

import type Database from 'better-sqlite3';
import type { ChangeAppender, Decision } from './change-log.ts';
import type { ValidOrder } from './order-input.ts';
import type { Store } from './store.ts';
import type { OrderOverride, Rail, TargetStatus } from './types.ts';

/** A target that passed screening, ready to be written. */
export interface AcceptedTarget {
  expression: string;
  /** Rails it tripped and the order overrode (empty for most). */
  rails: readonly Rail[];
}

/**
 * Targets are written this many at a time. Every value that is the same for the whole order (category,
 * action, order id, version) is bound once per statement, not once per row: with better-sqlite3, binding
 * and per-call overhead are a large part of the cost of a bulk insert.
 */
const CHUNK = 256;
const OVERRIDE_TARGETS_KEPT = 1000;

type Existing = [expression: string, id: number, active: number, linked: number];

/**
 * Statements repeating one row pattern, prepared once per row count: a chunk is full but at the end of each
 * `write()`, and callers tend to pass the same number of targets every time, so few sizes recur.
 */
class RowsStatement {
  private readonly bySize = new Map<number, Database.Statement>();

  /** The statement is `head` + `row` repeated, comma-separated + `tail`. */
  constructor(
    private readonly db: Database.Database,
    private readonly head: string,
    private readonly row: string,
    private readonly tail = '',
  ) {}

  /** Runs it for `rows` rows (0 is a no-op); returns the number of rows changed. */
  run(named: Record<string, unknown>, params: unknown[], rows: number): number {
    return rows === 0 ? 0 : this.sized(rows).run(named, params).changes;
  }

  /** Rows of a query over `rows` parameters, as arrays. */
  all(named: Record<string, unknown>, params: unknown[], rows: number): unknown[][] {
    return this.sized(rows).raw().all(named, params) as unknown[][];
  }

  private sized(rows: number): Database.Statement {
    let stmt = this.bySize.get(rows);
    if (stmt === undefined) {
      stmt = this.db.prepare(`${this.head} ${new Array(rows).fill(this.row).join(', ')} ${this.tail}`);
      this.bySize.set(rows, stmt);
    }
    return stmt;
  }
}

/** What an order row holds beyond the order itself: an active order has a version, a pending one an approval. */
interface OrderRowState {
  version: number | null;
  status: 'active' | 'pending';
  /** The override audit record as JSON, or null. */
  override: string | null;
  entryCount: number;
  /** The approval record as JSON, or null. */
  approval: string | null;
}

/** Inserts the row of a new order created now by `actor`; returns its id. */
export function insertOrder(store: Store, order: ValidOrder, actor: string, state: OrderRowState): number {
  return Number(
    store
      .stmt(
        `INSERT INTO orders (reference, authority, category, action, reason, issued_at, expires_at, created_at,
           created_by, version, status, override, entry_count, approval)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        order.reference,
        order.authority,
        order.category,
        order.action,
        order.reason,
        order.issuedAt,
        order.expiresAt,
        store.nowIso(),
        actor,
        state.version,
        state.status,
        state.override,
        state.entryCount,
        state.approval,
      ).lastInsertRowid,
  );
}

/**
 * Inside the caller's write transaction: inserts the order row (or, for an approved pending order, makes its
 * row active), then `write()` adds its targets chunk by chunk and `finish()` completes the order and the
 * version. Within-order duplicates are found through the database (an entry already linked to this order), so
 * memory stays bounded however many targets come.
 */
export class OrderWriter {
  readonly orderId: number;
  readonly changes: ChangeAppender;
  private nextEntryId: number;
  private linked = 0;
  private readonly insertEntries: RowsStatement;
  private readonly insertLinks: RowsStatement;
  private readonly lookupEntries: RowsStatement;
  private readonly named: { category: string; action: string; orderId: number; version: number };
  private readonly overrideRails = new Set<Rail>();
  private readonly overrideTargets: string[] = [];

  constructor(
    private readonly store: Store,
    private readonly order: ValidOrder,
    readonly version: number,
    private readonly actor: string,
    /** A pending order being approved: its id, its creator, and the approval recorded on every row. */
    private readonly approved?: { orderId: number; requestedBy: string; approval: string },
  ) {
    const db = store.db;
    if (approved) {
      store
        .stmt(`UPDATE orders SET status = 'active', version = ?, approval = ? WHERE id = ?`)
        .run(version, approved.approval, approved.orderId);
    }
    this.orderId =
      approved?.orderId ??
      insertOrder(store, order, actor, {
        version,
        status: 'active',
        override: null,
        entryCount: 0,
        approval: null,
      });
    store.logOrderEvent(version, 'order-created', this.orderId);
    this.changes = store.changeAppender(version, actor);
    this.nextEntryId = store.nextEntryId();
    this.named = { category: order.category, action: order.action, orderId: this.orderId, version };
    // OR IGNORE: an expression already in the registry is skipped here and sorted out by lookup(). Unlike
    // ON CONFLICT DO NOTHING it also keeps the NOT NULL checks (never failing: every value is bound) from making
    // the statement abortable, so SQLite keeps no statement journal for it: at 10M entries that journal held a
    // copy of nearly every leaf a chunk touched.
    this.insertEntries = new RowsStatement(
      db,
      'INSERT OR IGNORE INTO entries (expression, id, active, category, action, order_id, first_version, last_version) VALUES',
      '(?, ?, 1, @category, @action, @orderId, @version, @version)',
    );
    this.insertLinks = new RowsStatement(
      db,
      'INSERT INTO order_entries (entry_id, order_id) VALUES',
      '(?, @orderId)',
    );
    this.lookupEntries = new RowsStatement(
      db,
      `SELECT e.expression, e.id, e.active,
         EXISTS (SELECT 1 FROM order_entries l WHERE l.entry_id = e.id AND l.order_id = @orderId)
       FROM entries e WHERE e.expression IN (`,
      '?',
      ')',
    );
  }

  /** Writes accepted targets; returns each one's status, in order. */
  write(targets: readonly AcceptedTarget[]): TargetStatus[] {
    if (targets.length <= CHUNK) return this.writeChunk(targets);
    const out: TargetStatus[] = [];
    for (let i = 0; i < targets.length; i += CHUNK) {
      for (const s of this.writeChunk(targets.slice(i, i + CHUNK))) out.push(s);
    }
    return out;
  }

  private writeChunk(targets: readonly AcceptedTarget[]): TargetStatus[] {
    const n = targets.length;
    const firstId = this.nextEntryId;
    this.nextEntryId += n;
    const params: unknown[] = new Array(2 * n);
    for (let i = 0; i < n; i++) {
      params[2 * i] = (targets[i] as AcceptedTarget).expression;
      params[2 * i + 1] = firstId + i;
    }
    // Optimistically insert every target as a new entry with id firstId + i. When all rows went in, all were
    // new (a repeat within the chunk would have collided with its first occurrence); otherwise sort them out.
    const statuses: TargetStatus[] = new Array(n);
    const links: number[] = [];
    const fresh = this.insertEntries.run(this.named, params, n) === n;
    const existing = fresh ? null : this.lookup(targets);
    const seen = fresh ? null : new Set<string>();
    const { category, action } = this.order;
    const order = { id: this.orderId, reference: this.order.reference };
    for (let i = 0; i < n; i++) {
      const t = targets[i] as AcceptedTarget;
      if (existing !== null && seen !== null) {
        if (seen.has(t.expression)) {
          statuses[i] = 'duplicate';
          continue;
        }
        seen.add(t.expression);
        const [, id, active, linked] = existing.get(t.expression) as Existing;
        if (id !== firstId + i) {
          if (linked === 1) {
            statuses[i] = 'duplicate';
            continue;
          }
          links.push(id);
          if (active === 1) {
            statuses[i] = 'already-active';
            continue;
          }
          this.store
            .stmt(
              `UPDATE entries SET active = 1, category = ?, action = ?, order_id = ?, last_version = ?
               WHERE expression = ?`,
            )
            .run(category, action, this.orderId, this.version, t.expression);
        } else {
          links.push(id);
        }
      } else {
        links.push(firstId + i);
      }
      this.changes.append('add', t.expression, category, action, order, this.noteFor(t), this.decisionFor(t));
      statuses[i] = 'added';
    }
    this.insertLinks.run({ orderId: this.orderId }, links, links.length);
    this.linked += links.length;
    this.changes.flush();
    return statuses;
  }

  /** [expression, id, active, linked to this order] of each distinct expression among the targets. */
  private lookup(targets: readonly AcceptedTarget[]): Map<string, Existing> {
    const expressions = [...new Set(targets.map((t) => t.expression))];
    const out = new Map<string, Existing>();
    for (const row of this.lookupEntries.all({ orderId: this.orderId }, expressions, expressions.length)) {
      out.set(row[0] as string, row as Existing);
    }
    return out;
  }

  private noteFor(t: AcceptedTarget): string {
    if (t.rails.length === 0) return '';
    for (const r of t.rails) this.overrideRails.add(r);
    if (this.overrideTargets.length < OVERRIDE_TARGETS_KEPT) this.overrideTargets.push(t.expression);
    return JSON.stringify({ override: t.rails, reason: this.order.override?.reason ?? '' });
  }

  /** The decision fields of a target's row: the override's reason when it needed one, the approval. */
  private decisionFor(t: AcceptedTarget): Decision {
    const approval = this.approved?.approval ?? '';
    return t.rails.length === 0 ? { approval } : { approval, reason: this.order.override?.reason ?? '' };
  }

  /** Completes the order row (its size, the override audit record) and the version row. */
  finish(): void {
    const o = this.order.override;
    const override: OrderOverride | null = o
      ? {
          reason: o.reason,
          actor: this.approved?.requestedBy ?? this.actor,
          rails: [...this.overrideRails],
          targets: this.overrideTargets,
        }
      : null;
    this.store
      .stmt('UPDATE orders SET entry_count = ?, override = ? WHERE id = ?')
      .run(this.linked, override ? JSON.stringify(override) : null, this.orderId);
    if (override) {
      // The overridden names stay out of the public log; the rails and the reason are its business.
      const detail = JSON.stringify({ rails: override.rails, reason: override.reason });
      this.store.logOrderEvent(this.version, 'order-override', this.orderId, detail);
    }
    this.store.finishVersion(this.version, this.changes);
  }
}
