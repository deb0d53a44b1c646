/**
 * The append-only change log and its SHA-256 hash chain.
 *
 * Encoding (format `takedown-change/1`), byte for byte: the row is written as a sequence of netstrings, each
 * `<n>:<value>,` where `<value>` is the UTF-8 text of a field and `<n>` its length in bytes, in decimal without
 * leading zeros. The fields, in this order:
 *
 *   "takedown-change/1", seq, version, op, expression, kind, category, action, order_id, order_ref, actor, note,
 *   prev_hash
 *
 * Integers are decimal without leading zeros; `kind` is derived from the expression (`domain` when its only
 * `/` is the last character); `order_ref` is the reference of the order `order_id` and `actor` the actor of the
 * row's version (both stored once, in orders and versions); `note` is "" when there is none; `prev_hash` is the
 * previous row's hash as 64 lowercase hex characters (64 zeros for the first row), and is not stored either.
 * The row's hash is SHA-256 over the encoding, stored as 32 bytes. Example: seq 1 of version 1 adding
 * `evil.example/` for order 1 `A/2024` by `alice`:
 * `17:takedown-change/1,1:1,1:1,3:add,13:evil.example/,6:domain,7:malware,5:block,1:1,6:A/2024,5:alice,0:,64:000...0,`.
 * Length prefixes make the encoding unambiguous whatever a free-text field (reference, actor, note) contains.
 */

import { hash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Action, Category, ChangeOp, EntryKind } from '../core/types.ts';
import { kindOf } from './rows.ts';
import type { ChainReport, ChangeRecord } from './types.ts';

/** The format tag, the first field of every encoded row. */
export const CHANGE_FORMAT = 'takedown-change/1';
/** The `prev_hash` of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** The hashed content of one change-log row (everything but its own hash and prev_hash). */
export interface ChangeContent {
  seq: number;
  version: number;
  op: ChangeOp;
  expression: string;
  kind: EntryKind;
  category: Category;
  action: Action;
  orderId: number;
  orderRef: string;
  actor: string;
  note: string;
}

const field = (s: string): string => `${Buffer.byteLength(s)}:${s},`;
const FORMAT_FIELD = field(CHANGE_FORMAT);

/** The canonical encoding of a row given its predecessor's hash (hex). */
export function encodeChange(c: ChangeContent, prevHash: string): string {
  return (
    FORMAT_FIELD +
    field(String(c.seq)) +
    field(String(c.version)) +
    field(c.op) +
    field(c.expression) +
    field(c.kind) +
    field(c.category) +
    field(c.action) +
    field(String(c.orderId)) +
    field(c.orderRef) +
    field(c.actor) +
    field(c.note) +
    field(prevHash)
  );
}

/** SHA-256 (hex) of a row's encoding. */
export function changeHash(c: ChangeContent, prevHash: string): string {
  return hash('sha256', encodeChange(c, prevHash), 'hex');
}

/** The order a change is attributed to. */
export interface ChangeOrder {
  id: number;
  reference: string;
}

/** Rows per INSERT statement. */
const BATCH = 256;
const ROW = '(?, ?, ?, @version, @op, @category, @action, @orderId, @note)';

/** The fields shared by a run of consecutive rows, bound once per INSERT instead of once per row. */
interface Template {
  op: ChangeOp;
  category: Category;
  action: Action;
  orderId: number;
  note: string;
  /** Encoding of version and op, which follow seq. */
  afterSeq: string;
  /** Encoding of category .. note, which follow kind. */
  afterKind: string;
}

const numberField = (n: number): string => {
  const s = String(n);
  return `${s.length}:${s},`;
};
const KIND_FIELD = { domain: field('domain'), url: field('url') } as const;

/**
 * Appends rows to the chain inside the caller's write transaction. Rows are hashed as they come and inserted in
 * multi-row batches; `flush()` before anything reads the log back, and before commit.
 */
export class ChangeAppender {
  private seq: number;
  private headHex: string;
  private template: Template | null = null;
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

  append(
    op: ChangeOp,
    expression: string,
    category: Category,
    action: Action,
    order: ChangeOrder,
    note = '',
  ): void {
    const t = this.templateFor(op, category, action, order, note);
    const seq = ++this.seq;
    this.firstSeq ??= seq;
    if (op === 'add') this.adds++;
    else this.removes++;
    // Same bytes as encodeChange(), assembled from the template's pre-encoded fields.
    const encoded = `${FORMAT_FIELD}${numberField(seq)}${t.afterSeq}${field(expression)}${KIND_FIELD[kindOf(expression)]}${t.afterKind}64:${this.headHex},`;
    const hex = hash('sha256', encoded, 'hex');
    this.params.push(seq, expression, Buffer.from(hex, 'hex'));
    this.headHex = hex;
    if (this.params.length === BATCH * 3) this.flush();
  }

  private templateFor(
    op: ChangeOp,
    category: Category,
    action: Action,
    order: ChangeOrder,
    note: string,
  ): Template {
    const t = this.template;
    if (
      t &&
      t.op === op &&
      t.category === category &&
      t.action === action &&
      t.orderId === order.id &&
      t.note === note
    ) {
      return t;
    }
    this.flush();
    this.template = {
      op,
      category,
      action,
      orderId: order.id,
      note,
      afterSeq: numberField(this.version) + field(op),
      afterKind:
        field(category) +
        field(action) +
        numberField(order.id) +
        field(order.reference) +
        field(this.actor) +
        field(note),
    };
    return this.template;
  }

  /** Writes the rows appended so far. */
  flush(): void {
    const t = this.template;
    const rows = this.params.length / 3;
    if (t === null || rows === 0) return;
    let stmt = this.statements.get(rows);
    if (stmt === undefined) {
      stmt = this.db.prepare(
        `INSERT INTO changes (seq, expression, hash, version, op, category, action, order_id, note)
         VALUES ${new Array(rows).fill(ROW).join(', ')}`,
      );
      if (rows === BATCH || rows === 1) this.statements.set(rows, stmt);
    }
    stmt.run(
      {
        version: this.version,
        op: t.op,
        category: t.category,
        action: t.action,
        orderId: t.orderId,
        note: t.note,
      },
      this.params,
    );
    this.params.length = 0;
  }
}

/** SELECT list that `toChangeRecord` reads: every hashed field, in encoding order, and the stored hash. */
export const CHANGE_SELECT = `SELECT c.seq, c.version, c.op, c.expression, c.category, c.action, c.order_id,
  o.reference, v.actor, c.note, c.hash
  FROM changes c LEFT JOIN orders o ON o.id = c.order_id LEFT JOIN versions v ON v.version = c.version`;

type ChangeRow = [
  seq: number,
  version: number,
  op: ChangeOp,
  expression: string,
  category: Category,
  action: Action,
  orderId: number,
  orderRef: string | null,
  actor: string | null,
  note: string,
  hash: unknown,
];

/** Maps a raw row selected with CHANGE_SELECT, given the previous row's hash. */
export function toChangeRecord(r: unknown, prevHash: string): ChangeRecord {
  const [seq, version, op, expression, category, action, orderId, orderRef, actor, note, h] = r as ChangeRow;
  return {
    seq,
    version,
    op,
    expression,
    kind: kindOf(expression),
    category,
    action,
    orderId,
    orderRef: orderRef ?? '',
    actor: actor ?? '',
    note,
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
  let rows = 0;
  let prev = GENESIS_HASH;
  for (const r of db.prepare(`${CHANGE_SELECT} ORDER BY c.seq`).raw().iterate()) {
    const c = toChangeRecord(r, prev);
    const expected = rows + 1;
    if (c.seq !== expected) return { ok: false, rows, brokenAt: expected, reason: 'missing_rows' };
    if (changeHash(c, prev) !== c.hash) return { ok: false, rows, brokenAt: c.seq, reason: 'hash_mismatch' };
    prev = c.hash;
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
