/** Writes an order's accepted targets: entries, links and change-log rows, in batches, inside one transaction. */

import type Database from 'better-sqlite3';
import type { EntryKind } from '../core/types.ts';
import { ChangeAppender } from './change-log.ts';
import type { ValidOrder } from './order-input.ts';
import type { Store } from './store.ts';
import type { OrderOverride, Rail, TargetStatus } from './types.ts';

/** A target that passed screening, ready to be written. */
export interface AcceptedTarget {
  expression: string;
  kind: EntryKind;
  /** Rails it tripped and the order overrode (empty for most). */
  rails: Rail[];
}

/**
 * Targets are written this many at a time. Every value that is the same for the whole order (category,
 * action, order id, version) is bound once per statement, not once per row: with better-sqlite3, binding
 * and per-call overhead are a large part of the cost of a bulk insert.
 */
const CHUNK = 256;
const OVERRIDE_TARGETS_KEPT = 1000;

type Existing = [expression: string, id: number, active: number, linked: number];

/** Multi-row statements of one shape, prepared per row count (only the full chunk size is kept). */
class RowsStatement {
  private readonly full: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly head: string,
    private readonly row: string,
    private readonly tail = '',
  ) {
    this.full = this.prepare(CHUNK);
  }

  /** Inserts `rows` rows (0 is a no-op); returns how many were inserted. */
  run(constants: Record<string, unknown>, params: unknown[], rows: number): number {
    if (rows === 0) return 0;
    return (rows === CHUNK ? this.full : this.prepare(rows)).run(constants, params).changes;
  }

  private prepare(rows: number): Database.Statement {
    return this.db.prepare(`${this.head} VALUES ${new Array(rows).fill(this.row).join(', ')} ${this.tail}`);
  }
}

/**
 * Inside the caller's write transaction: inserts the order row, then `write()` adds its targets chunk by chunk
 * and `finish()` completes the order and the version. Within-order duplicates are found through the database
 * (an entry already linked to this order), so memory stays bounded however many targets come.
 */
export class OrderWriter {
  readonly orderId: number;
  readonly changes: ChangeAppender;
  private nextEntryId: number;
  private linked = 0;
  private readonly insertEntries: RowsStatement;
  private readonly insertLinks: RowsStatement;
  private readonly entryConstants: Record<string, unknown>;
  private lookupFull: Database.Statement | undefined;
  private readonly overrideRails = new Set<Rail>();
  private readonly overrideTargets: string[] = [];

  constructor(
    private readonly store: Store,
    private readonly order: ValidOrder,
    readonly version: number,
    private readonly actor: string,
  ) {
    const db = store.db;
    this.orderId = Number(
      store
        .stmt(
          `INSERT INTO orders (reference, authority, category, action, reason, issued_at, expires_at, created_at,
             created_by, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
          version,
        ).lastInsertRowid,
    );
    this.changes = new ChangeAppender(db, version, actor);
    this.nextEntryId = store.nextEntryId();
    // ON CONFLICT DO NOTHING: an expression already in the registry is skipped here and sorted out by lookup().
    this.insertEntries = new RowsStatement(
      db,
      `INSERT INTO entries (expression, id, active, category, action, order_id, first_version, last_version)`,
      '(?, ?, 1, @category, @action, @orderId, @version, @version)',
      'ON CONFLICT DO NOTHING',
    );
    this.insertLinks = new RowsStatement(
      db,
      'INSERT INTO order_entries (entry_id, order_id)',
      '(?, @orderId)',
    );
    this.entryConstants = { category: order.category, action: order.action, orderId: this.orderId, version };
  }

  /** Writes accepted targets; returns each one's status, in order. */
  write(targets: readonly AcceptedTarget[]): TargetStatus[] {
    const out: TargetStatus[] = [];
    for (let i = 0; i < targets.length; i += CHUNK) {
      for (const s of this.writeChunk(targets.slice(i, i + CHUNK))) out.push(s);
    }
    return out;
  }

  private writeChunk(targets: readonly AcceptedTarget[]): TargetStatus[] {
    const statuses: TargetStatus[] = new Array(targets.length);
    const unique: number[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < targets.length; i++) {
      const e = (targets[i] as AcceptedTarget).expression;
      if (seen.has(e)) statuses[i] = 'duplicate';
      else {
        seen.add(e);
        unique.push(i);
      }
    }
    // Optimistically insert every expression as a new entry; when some already existed, look them all up.
    const firstId = this.nextEntryId;
    const params: unknown[] = [];
    for (const i of unique) params.push((targets[i] as AcceptedTarget).expression, this.nextEntryId++);
    const inserted = this.insertEntries.run(this.entryConstants, params, unique.length);
    const existing = new Map<string, Existing>();
    if (inserted < unique.length) {
      for (const row of this.lookup(unique.map((i) => (targets[i] as AcceptedTarget).expression))) {
        existing.set(row[0], row);
      }
    }
    const { category, action } = this.order;
    const order = { id: this.orderId, reference: this.order.reference };
    const links: number[] = [];
    for (let u = 0; u < unique.length; u++) {
      const i = unique[u] as number;
      const t = targets[i] as AcceptedTarget;
      const tentativeId = firstId + u;
      const found = existing.get(t.expression);
      if (found === undefined || found[1] === tentativeId) {
        links.push(tentativeId);
      } else if (found[3] === 1) {
        statuses[i] = 'duplicate';
        continue;
      } else if (found[2] === 1) {
        links.push(found[1]);
        statuses[i] = 'already-active';
        continue;
      } else {
        this.store
          .stmt(
            `UPDATE entries SET active = 1, category = ?, action = ?, order_id = ?, last_version = ?
             WHERE expression = ?`,
          )
          .run(category, action, this.orderId, this.version, t.expression);
        links.push(found[1]);
      }
      this.changes.append('add', t.expression, category, action, order, this.noteFor(t));
      statuses[i] = 'added';
    }
    this.insertLinks.run({ orderId: this.orderId }, links, links.length);
    this.linked += links.length;
    this.changes.flush();
    return statuses;
  }

  private noteFor(t: AcceptedTarget): string {
    if (t.rails.length === 0) return '';
    for (const r of t.rails) this.overrideRails.add(r);
    if (this.overrideTargets.length < OVERRIDE_TARGETS_KEPT) this.overrideTargets.push(t.expression);
    return JSON.stringify({ override: t.rails, reason: this.order.override?.reason ?? '' });
  }

  /** [expression, id, active, linked to this order] of the given expressions (new ones included). */
  private lookup(expressions: string[]): Existing[] {
    // A chunk is full but for the last one, so the statement for CHUNK expressions is kept.
    let stmt = expressions.length === CHUNK ? this.lookupFull : undefined;
    if (stmt === undefined) {
      stmt = this.store.db
        .prepare(
          `SELECT e.expression, e.id, e.active,
             EXISTS (SELECT 1 FROM order_entries l WHERE l.entry_id = e.id AND l.order_id = @orderId)
           FROM entries e WHERE e.expression IN (${new Array(expressions.length).fill('?').join(', ')})`,
        )
        .raw();
      if (expressions.length === CHUNK) this.lookupFull = stmt;
    }
    return stmt.all({ orderId: this.orderId }, expressions) as Existing[];
  }

  /** Completes the order row (its size, the override audit record) and the version row. */
  finish(): void {
    const o = this.order.override;
    const override: OrderOverride | null = o
      ? { reason: o.reason, actor: this.actor, rails: [...this.overrideRails], targets: this.overrideTargets }
      : null;
    this.store
      .stmt('UPDATE orders SET entry_count = ?, override = ? WHERE id = ?')
      .run(this.linked, override ? JSON.stringify(override) : null, this.orderId);
    this.store.finishVersion(this.version, this.changes);
  }
}
