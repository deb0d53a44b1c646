/**
 * The canonical encoding of a change-log row, which its SHA-256 hash covers.
 *
 * Byte for byte, a row is a sequence of netstrings, each `<n>:<value>,` where `<value>` is the UTF-8 text of a
 * field and `<n>` its length in bytes, in decimal without leading zeros. Format 1 (`takedown-change/1`, every
 * row written before schema migration 2) has these fields, in this order:
 *
 *   "takedown-change/1", seq, version, op, expression, kind, category, action, order_id, order_ref, actor, note,
 *   prev_hash
 *
 * Format 2 (`takedown-change/2`, every row written since) adds the decision's fields before prev_hash:
 *
 *   "takedown-change/2", seq, version, op, expression, kind, category, action, order_id, order_ref, actor, note,
 *   reason, release, approval, prev_hash
 *
 * Integers are decimal without leading zeros; `kind` is derived from the expression (`domain` when its only
 * `/` is the last character, `""` for the decision rows that name no expression); `order_ref` is the reference
 * of the order `order_id` and `actor` the actor of the row's version (both stored once, in orders and
 * versions); `note` and `reason` are "" when there is none; `release` is 1 when the row put its expression on
 * the released list, else 0; `approval` is "" or the JSON of the second regulator's decision; `prev_hash` is
 * the previous row's hash as 64 lowercase hex characters (64 zeros for the first row), not stored either.
 * The row's hash is SHA-256 over the encoding, stored as 32 bytes. Example: seq 1 of version 1 adding
 * `evil.example/` for order 1 `A/2024` by `alice`, format 1:
 * `17:takedown-change/1,1:1,1:1,3:add,13:evil.example/,6:domain,7:malware,5:block,1:1,6:A/2024,5:alice,0:,64:000...0,`.
 * Length prefixes make the encoding unambiguous whatever a free-text field (reference, actor, note) contains;
 * the format tag first means a row cannot be re-read under the other format's field list.
 */

import { hash } from 'node:crypto';
import type { Action, Category, ChangeOp, EntryKind } from '../core/types.ts';
import { kindOf } from './rows.ts';

/** The format tag of rows written before migration 2. */
export const CHANGE_FORMAT = 'takedown-change/1';
/** The format tag of rows written since: they hash the decision fields too. */
export const CHANGE_FORMAT_2 = 'takedown-change/2';
/** The format new rows are written in. */
export const CURRENT_FORMAT = 2;
/** The `prev_hash` of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** Rows that record a decision: everything but `add` and `remove`. */
export type DecisionOp = 'revoke' | 'extend' | 'approve' | 'reject' | 'unrelease';
export type LogOp = ChangeOp | DecisionOp;

/** The hashed content of one change-log row (everything but its own hash and prev_hash). */
export interface ChangeContent {
  /** 1 or 2; default 1. */
  format?: number;
  seq: number;
  version: number;
  op: LogOp;
  expression: string;
  kind: EntryKind | '';
  category: Category;
  action: Action;
  orderId: number;
  orderRef: string;
  actor: string;
  note: string;
  /** Format 2 only. */
  reason?: string;
  release?: boolean;
  approval?: string;
}

const field = (s: string): string => `${Buffer.byteLength(s)}:${s},`;
const numberField = (n: number): string => {
  const s = String(n);
  return `${s.length}:${s},`;
};
const FORMAT_FIELD: Record<number, string> = { 1: field(CHANGE_FORMAT), 2: field(CHANGE_FORMAT_2) };
const KIND_FIELD = { domain: field('domain'), url: field('url') } as const;
const NO_KIND = field('');

const kindField = (expression: string): string =>
  expression === '' ? NO_KIND : KIND_FIELD[kindOf(expression)];

/** The fields of a row that consecutive rows mostly share. */
export interface SharedFields {
  category: string;
  action: string;
  orderId: number;
  orderRef: string;
  actor: string;
  note: string;
  reason: string;
  release: number;
  approval: string;
}

/**
 * Encodes rows one after another. Consecutive rows mostly share their version, op, category, action, order,
 * actor, note and decision (an order's thousands of adds), so those fields are encoded once per run, not once
 * per row: the writer and the verifier both hash millions of rows through here.
 */
export class ChangeEncoder {
  private format = -1;
  private version = -1;
  private op = '';
  private afterSeq = '';
  private shared: SharedFields | null = null;
  private afterKind = '';

  /**
   * The encoding of a row whose kind is derived from its expression. Returns null for a format this code does
   * not know, or a format-1 row carrying decision fields (format 1 cannot hold them: they were added later).
   */
  encode(
    format: number,
    seq: number,
    version: number,
    op: string,
    expression: string,
    s: SharedFields,
    prevHash: string,
  ): string | null {
    const tag = FORMAT_FIELD[format];
    if (tag === undefined) return null;
    if (format === 1 && (s.reason !== '' || s.release !== 0 || s.approval !== '')) return null;
    if (version !== this.version || op !== this.op) {
      this.version = version;
      this.op = op;
      this.afterSeq = numberField(version) + field(op);
    }
    const p = this.shared;
    if (
      format !== this.format ||
      p === null ||
      s.category !== p.category ||
      s.action !== p.action ||
      s.orderId !== p.orderId ||
      s.orderRef !== p.orderRef ||
      s.actor !== p.actor ||
      s.note !== p.note ||
      s.reason !== p.reason ||
      s.release !== p.release ||
      s.approval !== p.approval
    ) {
      this.format = format;
      this.shared = { ...s };
      this.afterKind =
        field(s.category) +
        field(s.action) +
        numberField(s.orderId) +
        field(s.orderRef) +
        field(s.actor) +
        field(s.note) +
        (format === 1 ? '' : field(s.reason) + numberField(s.release) + field(s.approval));
    }
    return `${tag}${numberField(seq)}${this.afterSeq}${field(expression)}${kindField(expression)}${this.afterKind}${field(prevHash)}`;
  }
}

/**
 * The canonical encoding of a row given its predecessor's hash (hex), field by field as documented above.
 * (`c.kind` is encoded as given; the registry always derives it from the expression.)
 */
export function encodeChange(c: ChangeContent, prevHash: string): string {
  const format = c.format ?? 1;
  const tag = FORMAT_FIELD[format];
  if (tag === undefined) throw new RangeError(`unknown change-log format ${format}`);
  return (
    tag +
    numberField(c.seq) +
    numberField(c.version) +
    field(c.op) +
    field(c.expression) +
    field(c.kind) +
    field(c.category) +
    field(c.action) +
    numberField(c.orderId) +
    field(c.orderRef) +
    field(c.actor) +
    field(c.note) +
    (format === 1 ? '' : field(c.reason ?? '') + numberField(c.release ? 1 : 0) + field(c.approval ?? '')) +
    field(prevHash)
  );
}

/** SHA-256 (hex) of a row's encoding. */
export function changeHash(c: ChangeContent, prevHash: string): string {
  return hash('sha256', encodeChange(c, prevHash), 'hex');
}
