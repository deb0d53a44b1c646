/**
 * Writing the transparency log's leaves (src/core/log-leaf.ts) inside each version's write transaction: one
 * per change-log row as it is appended, one per order event, then the version's tree head. The hash chain
 * of the change log is untouched; the log is a second, public structure over the same rows.
 */
import { createHmac, hash } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  ChangeLeafEncoder,
  COMMITMENT_PREFIX,
  encodeLeaf,
  type LeafOrder,
  type OrderEvent,
} from '../core/log-leaf.ts';
import { hashLeaf } from '../core/merkle.ts';
import type { Action, Category, ChangeOp } from '../core/types.ts';
import { ChangeAppender } from './change-log.ts';
import { TileAppender } from './log-tiles.ts';
import { kindOf } from './rows.ts';

/** What the leaves need beyond the rows: which categories are committed, and the commitment key. */
export interface LogSettings {
  confidential: readonly Category[];
  /** The HMAC-SHA-256 key of target commitments (read on first use). */
  commitmentKey(): Uint8Array;
}

/** The target a leaf shows: the expression, or its commitment for a confidential category. */
export function leafTarget(settings: LogSettings, expression: string, category: Category): string {
  if (!settings.confidential.includes(category)) return expression;
  return COMMITMENT_PREFIX + createHmac('sha256', settings.commitmentKey()).update(expression).digest('hex');
}

/** The tree size after the latest logged version (0 for an empty log). */
export function loggedSize(db: Database.Database): number {
  return (
    (db.prepare('SELECT tree_size FROM log_heads ORDER BY version DESC LIMIT 1').pluck().get() as
      | number
      | undefined) ?? 0
  );
}

type OrderRow = [
  reference: string,
  authority: string,
  category: Category,
  action: Action,
  reason: string | null,
  issuedAt: string,
  expiresAt: string | null,
];

/** The leaves of one version being written; `finish()` records its tree head. */
export class VersionLeaves {
  private readonly tree: TileAppender;
  private readonly encoder = new ChangeLeafEncoder();
  private readonly orders = new Map<number, LeafOrder>();
  private readonly orderRow: Database.Statement;
  private readonly insertEvent: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    readonly version: number,
    private readonly settings: LogSettings,
  ) {
    this.tree = new TileAppender(db, loggedSize(db));
    this.orderRow = db.prepare(
      'SELECT reference, authority, category, action, reason, issued_at, expires_at FROM orders WHERE id = ?',
    );
    this.insertEvent = db.prepare('INSERT INTO log_events (leaf_index, version, leaf) VALUES (?, ?, ?)');
  }

  /** An order event, showing the order as it is now (after the write's own update of it). */
  orderEvent(type: OrderEvent, orderId: number, detail = ''): void {
    const row = this.orderRow.raw().get(orderId) as OrderRow | undefined;
    if (row === undefined) throw new Error(`order ${orderId} does not exist`);
    const [reference, authority, category, action, reason, issuedAt, expiresAt] = row;
    const leaf = encodeLeaf({
      type,
      version: this.version,
      order: {
        id: orderId,
        reference,
        authority,
        category,
        action,
        reason: reason ?? '',
        issuedAt,
        expiresAt: expiresAt ?? '',
      },
      detail,
    });
    this.insertEvent.run(this.tree.size, this.version, leaf);
    this.tree.append(hashLeaf(leaf));
  }

  /** The leaf of a change-log row just appended. */
  change(
    seq: number,
    op: ChangeOp,
    expression: string,
    category: Category,
    action: Action,
    orderId: number,
    note: string,
  ): void {
    const text = this.encoder.encodeText({
      type: op,
      version: this.version,
      seq,
      target: leafTarget(this.settings, expression, category),
      kind: kindOf(expression),
      category,
      action,
      order: this.order(orderId),
      note,
    });
    // node:crypto hashes the UTF-8 text directly: no byte array per leaf on the import path.
    this.tree.append(hash('sha256', `\0${text}`, 'buffer'));
  }

  /** Stores the tree's new tiles and the version's head. */
  finish(): void {
    this.tree.flush();
    this.db
      .prepare('INSERT INTO log_heads (version, tree_size, root) VALUES (?, ?, ?)')
      .run(this.version, this.tree.size, this.tree.root());
  }

  private order(id: number): LeafOrder {
    let o = this.orders.get(id);
    if (o === undefined) {
      const row = this.orderRow.raw().get(id) as OrderRow | undefined;
      o = { id, reference: row?.[0] ?? '', authority: row?.[1] ?? '', reason: row?.[4] ?? '' };
      this.orders.set(id, o);
    }
    return o;
  }
}

/** A change appender that also writes each row's leaf. */
export class LoggedChangeAppender extends ChangeAppender {
  constructor(
    db: Database.Database,
    version: number,
    actor: string,
    private readonly leaves: VersionLeaves,
  ) {
    super(db, version, actor);
  }

  override append(...args: Parameters<ChangeAppender['append']>): void {
    super.append(...args);
    const [op, expression, category, action, order, note = ''] = args;
    this.leaves.change(this.lastSeq as number, op, expression, category, action, order.id, note);
  }
}
