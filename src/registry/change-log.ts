/** The append-only change log: appending hash-chained rows, reading them back, verifying the chain. */

import { hash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Action, Category } from '../core/types.ts';
import {
  ChangeEncoder,
  CURRENT_FORMAT,
  GENESIS_HASH,
  type LogOp,
  type SharedFields,
} from './change-encoding.ts';
import { kindOf } from './rows.ts';
import type { ChainReport, ChangeRecord } from './types.ts';

export {
  CHANGE_FORMAT,
  CHANGE_FORMAT_2,
  changeHash,
  encodeChange,
  GENESIS_HASH,
} from './change-encoding.ts';

/** The order a change is attributed to. */
export interface ChangeOrder {
  id: number;
  reference: string;
}

/** Rows per INSERT statement. */
const BATCH = 256;
const ROW =
  '(?, ?, ?, @format, @version, @op, @category, @action, @orderId, @note, @reason, @release, @approval)';

/** The fields a run of consecutive rows shares, bound once per INSERT instead of once per row. */
interface Shared {
  format: number;
  version: number;
  op: LogOp;
  category: Category;
  action: Action;
  orderId: number;
  note: string;
  reason: string;
  release: number;
  approval: string;
}

/** The decision fields of a row (format 2): why, whether it released its expression, who approved it. */
export interface Decision {
  reason?: string;
  release?: boolean;
  /** JSON of the approval (`{"decision","by","requestedBy","at"}`). */
  approval?: string;
}

const NO_DECISION: Decision = {};

/**
 * Appends rows to the chain inside the caller's write transaction (one version, one actor). Rows are hashed
 * as they come and inserted in multi-row batches; `flush()` before anything reads the log back, and before
 * commit.
 */
export class ChangeAppender {
  private seq: number;
  private headHex: string;
  private shared: Shared | null = null;
  private readonly encoder = new ChangeEncoder();
  private readonly params: unknown[] = [];
  private readonly statements = new Map<number, Database.Statement>();
  firstSeq: number | null = null;
  adds = 0;
  removes = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly version: number,
    private readonly actor: string,
  ) {
    const last = db.prepare('SELECT seq, hash FROM changes ORDER BY seq DESC LIMIT 1').get() as
      | { seq: number; hash: Buffer }
      | undefined;
    this.seq = last?.seq ?? 0;
    this.headHex = last ? last.hash.toString('hex') : GENESIS_HASH;
  }

  /** Hash of the last row appended (or of the chain head before this write). */
  get head(): string {
    return this.headHex;
  }

  get lastSeq(): number | null {
    return this.firstSeq === null ? null : this.seq;
  }

  /**
   * Appends one row. `add` and `remove` change an entry (feeds read them); the decision ops record a decision
   * that changes none (`expression` '' for a decision about a whole order).
   */
  append(
    op: LogOp,
    expression: string,
    category: Category,
    action: Action,
    order: ChangeOrder,
    note = '',
    decision: Decision = NO_DECISION,
  ): void {
    const s = this.shared;
    const reason = decision.reason ?? '';
    const release = decision.release ? 1 : 0;
    const approval = decision.approval ?? '';
    if (
      !s ||
      s.op !== op ||
      s.category !== category ||
      s.action !== action ||
      s.orderId !== order.id ||
      s.note !== note ||
      s.reason !== reason ||
      s.release !== release ||
      s.approval !== approval
    ) {
      this.flush();
      this.shared = {
        format: CURRENT_FORMAT,
        version: this.version,
        op,
        category,
        action,
        orderId: order.id,
        note,
        reason,
        release,
        approval,
      };
    }
    const seq = ++this.seq;
    this.firstSeq ??= seq;
    if (op === 'add') this.adds++;
    else if (op === 'remove') this.removes++;
    const fields: SharedFields = {
      category,
      action,
      orderId: order.id,
      orderRef: order.reference,
      actor: this.actor,
      note,
      reason,
      release,
      approval,
    };
    const encoded = this.encoder.encode(
      CURRENT_FORMAT,
      seq,
      this.version,
      op,
      expression,
      fields,
      this.headHex,
    ) as string;
    const hex = hash('sha256', encoded, 'hex');
    this.params.push(seq, expression, Buffer.from(hex, 'hex'));
    this.headHex = hex;
    if (this.params.length === BATCH * 3) this.flush();
  }

  /** Writes the rows appended so far. */
  flush(): void {
    const rows = this.params.length / 3;
    if (this.shared === null || rows === 0) return;
    // One statement per batch size: a batch is full but where the shared fields change and at chunk ends.
    let stmt = this.statements.get(rows);
    if (stmt === undefined) {
      stmt = this.db.prepare(
        `INSERT INTO changes (seq, expression, hash, format, version, op, category, action, order_id, note, reason,
           release, approval)
         VALUES ${new Array(rows).fill(ROW).join(', ')}`,
      );
      this.statements.set(rows, stmt);
    }
    stmt.run(this.shared, this.params);
    this.params.length = 0;
  }
}

/** SELECT list that `toChangeRecord` reads: every hashed field, in encoding order, and the stored hash. */
export const CHANGE_SELECT = `SELECT c.seq, c.version, c.op, c.expression, c.category, c.action, c.order_id,
  o.reference, v.actor, c.note, c.hash, c.format, c.reason, c.release, c.approval
  FROM changes c LEFT JOIN orders o ON o.id = c.order_id LEFT JOIN versions v ON v.version = c.version`;

type ChangeRow = [
  seq: number,
  version: number,
  op: LogOp,
  expression: string,
  category: Category,
  action: Action,
  orderId: number,
  orderRef: string | null,
  actor: string | null,
  note: string,
  hash: unknown,
  format: number,
  reason: string,
  release: number,
  approval: string,
];

/** Maps a raw row selected with CHANGE_SELECT, given the previous row's hash. */
export function toChangeRecord(r: unknown, prevHash: string): ChangeRecord {
  const [
    seq,
    version,
    op,
    expression,
    category,
    action,
    orderId,
    orderRef,
    actor,
    note,
    h,
    format,
    reason,
    release,
    approval,
  ] = r as ChangeRow;
  return {
    seq,
    format,
    version,
    op,
    expression,
    kind: expression === '' ? '' : kindOf(expression),
    category,
    action,
    orderId,
    orderRef: orderRef ?? '',
    actor: actor ?? '',
    note,
    reason,
    release: release === 1,
    approval,
    prevHash,
    hash: hexOf(h),
  };
}

/** Hex of a stored hash; a value that is not a blob (an edited row) yields a string that matches no hash. */
export const hexOf = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('hex') : `!${String(v)}`);

/**
 * Recomputes the chain in one streaming pass (constant memory): seqs must run 1, 2, 3 ... and every hash must
 * match its row's content and its predecessor's hash; then each version's recorded head must be the hash of
 * its last row, which also catches rows cut from the end of the log.
 */
export function verifyChain(db: Database.Database): ChainReport {
  const encoder = new ChangeEncoder();
  // Reference and actor change rarely from one row to the next: look them up on change, not by a join.
  const referenceOf = db.prepare('SELECT reference FROM orders WHERE id = ?').pluck();
  const actorOf = db.prepare('SELECT actor FROM versions WHERE version = ?').pluck();
  let orderId = -1;
  let orderRef = '';
  let version = -1;
  let actor = '';
  let rows = 0;
  let prev = GENESIS_HASH;
  const scan = db.prepare(
    `SELECT seq, version, op, expression, category, action, order_id, note, hash, format, reason, release, approval
     FROM changes ORDER BY seq`,
  );
  for (const r of scan.raw().iterate()) {
    const [seq, v, op, expression, category, action, o, note, stored, format, reason, release, approval] =
      r as [
        number,
        number,
        string,
        string,
        string,
        string,
        number,
        string,
        unknown,
        number,
        string,
        number,
        string,
      ];
    if (seq !== rows + 1) return { ok: false, rows, brokenAt: rows + 1, reason: 'missing_rows' };
    if (o !== orderId) {
      orderId = o;
      orderRef = (referenceOf.get(o) as string | undefined) ?? '';
    }
    if (v !== version) {
      version = v;
      actor = (actorOf.get(v) as string | undefined) ?? '';
    }
    const shared = { category, action, orderId: o, orderRef, actor, note, reason, release, approval };
    const encoded = encoder.encode(format, seq, v, op, expression, shared, prev);
    const digest = encoded === null ? '' : hash('sha256', encoded, 'hex');
    if (digest !== hexOf(stored)) return { ok: false, rows, brokenAt: seq, reason: 'hash_mismatch' };
    prev = digest;
    rows++;
  }
  const hashAt = db.prepare('SELECT hash FROM changes WHERE seq = ?').pluck();
  const versions = db.prepare(
    'SELECT version, last_seq, head_hash FROM versions WHERE last_seq IS NOT NULL ORDER BY version',
  );
  for (const v of versions.iterate() as Iterable<{ version: number; last_seq: number; head_hash: Buffer }>) {
    if (v.last_seq > rows) return { ok: false, rows, brokenAt: rows + 1, reason: 'truncated' };
    if (hexOf(hashAt.get(v.last_seq)) !== hexOf(v.head_hash)) {
      return { ok: false, rows, brokenAt: v.last_seq, reason: 'version_head_mismatch' };
    }
  }
  return { ok: true, rows };
}
