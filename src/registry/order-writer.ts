/** Writes an order's accepted targets: entries, links and change-log rows, in batches, inside one transaction. */

import type { EntryKind } from '../core/types.ts';
import { BatchInsert } from './batch-insert.ts';
import { ChangeAppender } from './change-log.ts';
import type { ValidOrder } from './order-input.ts';
import type { Store } from './store.ts';
import type { OrderOverride, Rail, TargetStatus } from './types.ts';

/** A target that passed screening, ready to be written. */
export interface AcceptedTarget {
  expression: string;
  kind: EntryKind;
  registrableDomain: string | null;
  /** Rails it tripped and the order overrode (empty for most). */
  rails: Rail[];
}

/** Targets are looked up and written this many at a time: one SELECT and a few multi-row INSERTs per chunk. */
const CHUNK = 512;
const OVERRIDE_TARGETS_KEPT = 1000;

const ENTRY_COLUMNS = [
  'expression',
  'id',
  'kind',
  'registrable_domain',
  'active',
  'category',
  'action',
  'order_id',
  'first_version',
  'last_version',
] as const;

type Existing = [expression: string, id: number, active: number, linked: number];

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
  private readonly entries: BatchInsert;
  private readonly links: BatchInsert;
  private readonly overrideRails = new Set<Rail>();
  private readonly overrideTargets: string[] = [];
  private readonly overrideNote: string;

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
    this.entries = new BatchInsert(db, 'INSERT INTO entries', ENTRY_COLUMNS, CHUNK);
    this.links = new BatchInsert(db, 'INSERT INTO order_entries', ['entry_id', 'order_id'], CHUNK);
    this.overrideNote = order.override ? order.override.reason : '';
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
    const firstAt = new Map<string, number>();
    for (let i = 0; i < targets.length; i++) {
      const e = (targets[i] as AcceptedTarget).expression;
      if (firstAt.has(e)) statuses[i] = 'duplicate';
      else firstAt.set(e, i);
    }
    const existing = new Map<string, Existing>();
    const t0 = performance.now();
    for (const row of this.lookup([...firstAt.keys()])) existing.set(row[0], row);
    const g = globalThis as any; g.T ??= {}; g.T.lookup = (g.T.lookup ?? 0) + performance.now() - t0;
    const { category, action } = this.order;
    const order = { id: this.orderId, reference: this.order.reference };
    const v = this.version;
    for (const [expression, i] of firstAt) {
      const t = targets[i] as AcceptedTarget;
      const found = existing.get(expression);
      if (found !== undefined && found[3] === 1) {
        statuses[i] = 'duplicate';
        continue;
      }
      this.linked++;
      if (found !== undefined && found[2] === 1) {
        this.links.push(found[1], this.orderId);
        statuses[i] = 'already-active';
        continue;
      }
      if (found === undefined) {
        const id = this.nextEntryId++;
        this.entries.push(
          expression,
          id,
          t.kind,
          t.registrableDomain,
          1,
          category,
          action,
          this.orderId,
          v,
          v,
        );
        this.links.push(id, this.orderId);
      } else {
        this.store
          .stmt(
            `UPDATE entries SET active = 1, category = ?, action = ?, order_id = ?, last_version = ?
             WHERE expression = ?`,
          )
          .run(category, action, this.orderId, v, expression);
        this.links.push(found[1], this.orderId);
      }
      this.changes.append('add', expression, t.kind, category, action, order, this.noteFor(t));
      statuses[i] = 'added';
    }
    this.entries.flush();
    this.links.flush();
    this.changes.flush();
    return statuses;
  }

  private noteFor(t: AcceptedTarget): string {
    if (t.rails.length === 0) return '';
    for (const r of t.rails) this.overrideRails.add(r);
    if (this.overrideTargets.length < OVERRIDE_TARGETS_KEPT) this.overrideTargets.push(t.expression);
    return JSON.stringify({ override: t.rails, reason: this.overrideNote });
  }

  /** [expression, id, active, linked to this order] of the expressions already in the registry. */
  private lookup(expressions: string[]): Existing[] {
    if (expressions.length === 0) return [];
    const marks = new Array(expressions.length).fill('?').join(', ');
    return this.store
      .stmt(
        `SELECT e.expression, e.id, e.active,
           EXISTS (SELECT 1 FROM order_entries l WHERE l.entry_id = e.id AND l.order_id = ?)
         FROM entries e WHERE e.expression IN (${marks})`,
      )
      .raw()
      .all(this.orderId, ...expressions) as Existing[];
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
