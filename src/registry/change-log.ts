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
 * Integers are decimal without leading zeros; `note` is "" when there is none; `prev_hash` is the previous
 * row's hash as 64 lowercase hex characters (64 zeros for the first row). The row's hash is SHA-256 over the
 * encoding. Example: seq 1 adding `evil.example/` gives
 * `17:takedown-change/1,1:1,1:1,3:add,13:evil.example/,6:domain,7:malware,5:block,1:1,6:A/2024,5:alice,0:,64:000...0,`.
 * Length prefixes make the encoding unambiguous whatever a free-text field (actor, note) contains.
 */

import { hash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Action, Category, ChangeOp, EntryKind } from '../core/types.ts';
import { BatchInsert } from './batch-insert.ts';
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

const COLUMNS = [
  'seq',
  'version',
  'op',
  'expression',
  'kind',
  'category',
  'action',
  'order_id',
  'order_ref',
  'actor',
  'note',
  'prev_hash',
  'hash',
] as const;

/** The order a change is attributed to. */
export interface ChangeOrder {
  id: number;
  reference: string;
}

/**
 * Appends rows to the chain inside the caller's write transaction. Rows are hashed as they come and inserted in
 * batches; `flush()` before anything reads the log back, and before commit.
 */
export class ChangeAppender {
  private seq: number;
  private headHex: string;
  private headBlob: Buffer;
  private readonly rows: BatchInsert;
  firstSeq: number | null = null;
  adds = 0;
  removes = 0;

  constructor(
    db: Database.Database,
    private readonly version: number,
    private readonly actor: string,
  ) {
    const last = db.prepare('SELECT seq, hash FROM changes ORDER BY seq DESC LIMIT 1').get() as
      | { seq: number; hash: Buffer }
      | undefined;
    this.seq = last?.seq ?? 0;
    this.headBlob = last?.hash ?? Buffer.from(GENESIS_HASH, 'hex');
    this.headHex = this.headBlob.toString('hex');
    this.rows = new BatchInsert(db, 'INSERT INTO changes', COLUMNS, 128);
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
    kind: EntryKind,
    category: Category,
    action: Action,
    order: ChangeOrder,
    note = '',
  ): void {
    const seq = ++this.seq;
    this.firstSeq ??= seq;
    if (op === 'add') this.adds++;
    else this.removes++;
    const content: ChangeContent = {
      seq,
      version: this.version,
      op,
      expression,
      kind,
      category,
      action,
      orderId: order.id,
      orderRef: order.reference,
      actor: this.actor,
      note,
    };
    const hex = changeHash(content, this.headHex);
    const blob = Buffer.from(hex, 'hex');
    this.rows.push(
      seq,
      this.version,
      op,
      expression,
      kind,
      category,
      action,
      order.id,
      order.reference,
      this.actor,
      note,
      this.headBlob,
      blob,
    );
    this.headHex = hex;
    this.headBlob = blob;
  }

  flush(): void {
    this.rows.flush();
  }
}

interface ChangeRow {
  seq: number;
  version: number;
  op: ChangeOp;
  expression: string;
  kind: EntryKind;
  category: Category;
  action: Action;
  order_id: number;
  order_ref: string;
  actor: string;
  note: string;
  prev_hash: Buffer;
  hash: Buffer;
}

/** SELECT list that `toChangeRecord` reads. */
export const CHANGE_SELECT =
  'SELECT seq, version, op, expression, kind, category, action, order_id, order_ref, actor, note, prev_hash, hash FROM changes';

/** Maps a row selected with CHANGE_SELECT. */
export function toChangeRecord(r: unknown): ChangeRecord {
  const row = r as ChangeRow;
  return {
    seq: row.seq,
    version: row.version,
    op: row.op,
    expression: row.expression,
    kind: row.kind,
    category: row.category,
    action: row.action,
    orderId: row.order_id,
    orderRef: row.order_ref,
    actor: row.actor,
    note: row.note,
    prevHash: hexOf(row.prev_hash),
    hash: hexOf(row.hash),
  };
}

/** Hex of a stored hash; a value that is not a blob (an edited row) yields a string that matches no hash. */
const hexOf = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('hex') : `!${String(v)}`);

/**
 * Recomputes the chain in one streaming pass (constant memory): seqs must run 1, 2, 3 ..., every `prev_hash`
 * must be its predecessor's hash and every hash must match the row's content; then each version's recorded
 * head must be the hash of its last row, which also catches rows cut from the end of the log.
 */
export function verifyChain(db: Database.Database): ChainReport {
  let rows = 0;
  let prev = GENESIS_HASH;
  for (const r of db.prepare(`${CHANGE_SELECT} ORDER BY seq`).iterate()) {
    const c = toChangeRecord(r);
    const expected = rows + 1;
    if (c.seq !== expected) return { ok: false, rows, brokenAt: expected, reason: 'missing_rows' };
    if (c.prevHash !== prev) return { ok: false, rows, brokenAt: c.seq, reason: 'prev_hash_mismatch' };
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
    const h = hashAt.get(v.last_seq);
    if (hexOf(h) !== hexOf(v.head_hash)) {
      return { ok: false, rows, brokenAt: v.last_seq, reason: 'version_head_mismatch' };
    }
  }
  return { ok: true, rows };
}
