/**
 * Writing the transparency log's leaves (src/core/log-leaf.ts) inside each version's write transaction: one
 * per change-log row as it is appended, one per order event, then the version's tree head. The hash chain
 * of the change log is untouched; the log is a second, public structure over the same rows.
 */
import { createHmac } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  COMMITMENT_PREFIX,
  changeLeafPrefix,
  changeLeafSuffix,
  encodeLeaf,
  type LeafOrder,
  type OrderEvent,
} from '../core/log-leaf.ts';
import { hashLeaf } from '../core/merkle.ts';
import { PrefixedSha256 } from '../core/sha256.ts';
import type { Action, Category, ChangeOp } from '../core/types.ts';
import { ChangeAppender } from './change-log.ts';
import { TileAppender } from './log-tiles.ts';
import { kindOf } from './rows.ts';

const encoder = new TextEncoder();
const utf8 = (text: string): Uint8Array => encoder.encode(text);

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
function loggedSize(db: Database.Database): number {
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
  /** The leaf hasher of the current run of rows sharing op, category, action, order and note. */
  private run: { key: string; hasher: PrefixedSha256 } | null = null;
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
    // Rows come in long runs of one order (an import): the leaf's shared prefix is hashed once per run.
    const key = `${op} ${category} ${action} ${orderId} ${note}`;
    if (this.run?.key !== key) {
      const prefix = changeLeafPrefix({
        type: op,
        version: this.version,
        category,
        action,
        order: this.order(orderId),
        note,
      });
      this.run = { key, hasher: new PrefixedSha256(utf8(`\0${prefix}`)) };
    }
    const { hasher } = this.run;
    const suffix = changeLeafSuffix(seq, leafTarget(this.settings, expression, category), kindOf(expression));
    const out = hasher.suffix();
    let n = suffix.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const c = suffix.charCodeAt(i);
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      out[i] = c;
    }
    // Canonical expressions are ASCII; anything else takes the general path.
    if (!ascii) n = encoder.encodeInto(suffix, out).written;
    this.tree.append(hasher.digest(n));
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
    // Decision rows (revoke, approve, ...) are in the chain; the log records them as order events instead.
    if (op === 'add' || op === 'remove')
      this.leaves.change(this.lastSeq as number, op, expression, category, action, order.id, note);
  }
}
