/**
 * The canonical encoding of a change-log row, which its SHA-256 hash covers (format `takedown-change/1`).
 *
 * Byte for byte, a row is a sequence of netstrings, each `<n>:<value>,` where `<value>` is the UTF-8 text of a
 * field and `<n>` its length in bytes, in decimal without leading zeros. The fields, in this order:
 *
 *   "takedown-change/1", seq, version, op, expression, kind, category, action, order_id, order_ref, actor, note,
 *   prev_hash
 *
 * Integers are decimal without leading zeros; `kind` is derived from the expression (`domain` when its only
 * `/` is the last character); `order_ref` is the reference of the order `order_id` and `actor` the actor of the
 * row's version (both stored once, in orders and versions); `note` is "" when there is none; `prev_hash` is the
 * previous row's hash as 64 lowercase hex characters (64 zeros for the first row), not stored either. The
 * row's hash is SHA-256 over the encoding, stored as 32 bytes. Example: seq 1 of version 1 adding
 * `evil.example/` for order 1 `A/2024` by `alice`:
 * `17:takedown-change/1,1:1,1:1,3:add,13:evil.example/,6:domain,7:malware,5:block,1:1,6:A/2024,5:alice,0:,64:000...0,`.
 * Length prefixes make the encoding unambiguous whatever a free-text field (reference, actor, note) contains.
 */

import { hash } from 'node:crypto';
import type { Action, Category, ChangeOp, EntryKind } from '../core/types.ts';
import { kindOf } from './rows.ts';

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
const numberField = (n: number): string => {
  const s = String(n);
  return `${s.length}:${s},`;
};
const FORMAT_FIELD = field(CHANGE_FORMAT);
const KIND_FIELD = { domain: field('domain'), url: field('url') } as const;

/**
 * Encodes rows one after another. Consecutive rows mostly share their version, op, category, action, order,
 * actor and note (an order's thousands of adds), so those fields are encoded once per run, not once per row:
 * the writer and the verifier both hash millions of rows through here.
 */
export class ChangeEncoder {
  private version = -1;
  private op = '';
  private afterSeq = '';
  private category = '';
  private action = '';
  private orderId = -1;
  private orderRef = '';
  private actor = '';
  private note = '';
  private afterKind = '';

  /** The encoding of a row whose kind is derived from its expression. */
  encode(
    seq: number,
    version: number,
    op: string,
    expression: string,
    category: string,
    action: string,
    orderId: number,
    orderRef: string,
    actor: string,
    note: string,
    prevHash: string,
  ): string {
    if (version !== this.version || op !== this.op) {
      this.version = version;
      this.op = op;
      this.afterSeq = numberField(version) + field(op);
    }
    if (
      category !== this.category ||
      action !== this.action ||
      orderId !== this.orderId ||
      orderRef !== this.orderRef ||
      actor !== this.actor ||
      note !== this.note
    ) {
      this.category = category;
      this.action = action;
      this.orderId = orderId;
      this.orderRef = orderRef;
      this.actor = actor;
      this.note = note;
      this.afterKind =
        field(category) + field(action) + numberField(orderId) + field(orderRef) + field(actor) + field(note);
    }
    const kind = KIND_FIELD[kindOf(expression)];
    return `${FORMAT_FIELD}${numberField(seq)}${this.afterSeq}${field(expression)}${kind}${this.afterKind}${field(prevHash)}`;
  }
}

/**
 * The canonical encoding of a row given its predecessor's hash (hex), field by field as documented above.
 * (`c.kind` is encoded as given; the registry always derives it from the expression.)
 */
export function encodeChange(c: ChangeContent, prevHash: string): string {
  return (
    FORMAT_FIELD +
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
    field(prevHash)
  );
}

/** SHA-256 (hex) of a row's encoding. */
export function changeHash(c: ChangeContent, prevHash: string): string {
  return hash('sha256', encodeChange(c, prevHash), 'hex');
}
