/**
 * The leaves of the transparency log (format `takedown-leaf/1`): one per change-log row and one per order
 * event, so that every add and remove in the log points at an order the same log shows being created.
 * docs/TRANSPARENCY.md has the full description.
 *
 * A leaf is a sequence of netstrings `<n>:<value>,` (`<n>` = byte length of the UTF-8 value, decimal without
 * leading zeros), the first always "takedown-leaf/1", the second the leaf type:
 *
 *   add | remove:   format, type, version, category, action, order_id, reference, authority,
 *                   order_reason, note, seq, target, kind
 *   order-created | order-revoked | order-expired | order-extended | order-override:
 *                   format, type, version, order_id, reference, authority, category, action, reason,
 *                   issued_at, expires_at, detail
 *
 * `target` is the entry's expression, or for a confidential category `hmac-sha256:` + hex of
 * HMAC-SHA-256(commitment key, expression): the public log shows the order, never the name. Absent values
 * (no reason, no expiry) are empty strings. An order leaf shows the order as it is after the event (an
 * extension's new expiry); `detail` is the revocation reason, the override record
 * `{"rails":[...],"reason":...,"targets":N}`, or empty.
 */
import { ACTIONS, type Action, CATEGORIES, type Category, type EntryKind } from './types.ts';

const LEAF_FORMAT = 'takedown-leaf/1';
export const COMMITMENT_PREFIX = 'hmac-sha256:';

const ORDER_EVENTS = [
  'order-created',
  'order-revoked',
  'order-expired',
  'order-extended',
  'order-override',
] as const;
export type OrderEvent = (typeof ORDER_EVENTS)[number];
export type LeafType = 'add' | 'remove' | OrderEvent;

/** The order a change leaf points at, with the fields that never change after its creation. */
export interface LeafOrder {
  id: number;
  reference: string;
  authority: string;
  reason: string;
}

export interface ChangeLeaf {
  type: 'add' | 'remove';
  version: number;
  seq: number;
  /** The expression, or `hmac-sha256:<hex>` for a confidential category. */
  target: string;
  kind: EntryKind;
  category: Category;
  action: Action;
  order: LeafOrder;
  note: string;
}

export interface OrderLeaf {
  type: OrderEvent;
  version: number;
  order: LeafOrder & { category: Category; action: Action; issuedAt: string; expiresAt: string };
  detail: string;
}

export type LogLeaf = ChangeLeaf | OrderLeaf;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Byte length of a string's UTF-8 form without encoding it (the hot path encodes millions of leaves). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

const field = (s: string): string => `${utf8Length(s)}:${s},`;
const FORMAT_FIELD = field(LEAF_FORMAT);

/** The fields of a change leaf every row of one order in one version shares, as the leaf's first bytes. */
export function changeLeafPrefix(leaf: Omit<ChangeLeaf, 'seq' | 'target' | 'kind'>): string {
  const o = leaf.order;
  return (
    FORMAT_FIELD +
    field(leaf.type) +
    field(String(leaf.version)) +
    field(leaf.category) +
    field(leaf.action) +
    field(String(o.id)) +
    field(o.reference) +
    field(o.authority) +
    field(o.reason) +
    field(leaf.note)
  );
}

/** The fields of a change leaf that differ from row to row, after its prefix. */
export const changeLeafSuffix = (seq: number, target: string, kind: EntryKind): string =>
  `${field(String(seq))}${field(target)}${field(kind)}`;

/**
 * Encodes change leaves; the prefix every row of one order shares is encoded once per run of such rows,
 * since an import writes millions of rows of one order.
 */
export class ChangeLeafEncoder {
  private key = '';
  private prefix = '';

  encode(leaf: ChangeLeaf): Uint8Array {
    return encoder.encode(this.encodeText(leaf));
  }

  /** The leaf as text (its bytes are the UTF-8 of it). */
  encodeText(leaf: ChangeLeaf): string {
    const key = `${leaf.type} ${leaf.version} ${leaf.category} ${leaf.action} ${leaf.order.id} ${leaf.note}`;
    if (key !== this.key) {
      this.key = key;
      this.prefix = changeLeafPrefix(leaf);
    }
    return this.prefix + changeLeafSuffix(leaf.seq, leaf.target, leaf.kind);
  }
}

export function encodeLeaf(leaf: LogLeaf): Uint8Array {
  if (isChangeLeaf(leaf)) return new ChangeLeafEncoder().encode(leaf);
  const o = leaf.order;
  return encoder.encode(
    [
      LEAF_FORMAT,
      leaf.type,
      String(leaf.version),
      String(o.id),
      o.reference,
      o.authority,
      o.category,
      o.action,
      o.reason,
      o.issuedAt,
      o.expiresAt,
      leaf.detail,
    ]
      .map(field)
      .join(''),
  );
}

/** A leaf that does not decode; the message says why. */
class LeafFormatError extends Error {
  override name = 'LeafFormatError';
}

function netstrings(bytes: Uint8Array): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < bytes.length) {
    let n = 0;
    let digits = 0;
    for (; i < bytes.length && bytes[i] !== 0x3a; i++, digits++) {
      const d = (bytes[i] as number) - 0x30;
      if (d < 0 || d > 9 || (digits === 1 && n === 0) || digits > 6) throw new LeafFormatError('bad length');
      n = n * 10 + d;
    }
    if (digits === 0 || i + 1 + n >= bytes.length || bytes[i + 1 + n] !== 0x2c) {
      throw new LeafFormatError(`netstring ${out.length + 1} is malformed`);
    }
    out.push(decoder.decode(bytes.subarray(i + 1, i + 1 + n)));
    i += n + 2;
  }
  return out;
}

const NUMBER = /^(0|[1-9][0-9]{0,15})$/;
function int(s: string | undefined, what: string): number {
  if (s === undefined || !NUMBER.test(s) || !Number.isSafeInteger(Number(s))) {
    throw new LeafFormatError(`${what} '${s}' is not a decimal integer`);
  }
  return Number(s);
}
function oneOf<T extends string>(s: string | undefined, values: readonly T[], what: string): T {
  if (!(values as readonly (string | undefined)[]).includes(s)) throw new LeafFormatError(`${what} '${s}'`);
  return s as T;
}

/** Decodes a leaf; throws LeafFormatError naming the first bad field. Re-encoding gives the same bytes. */
export function decodeLeaf(bytes: Uint8Array): LogLeaf {
  let f: string[];
  try {
    f = netstrings(bytes);
  } catch (e) {
    throw e instanceof LeafFormatError ? e : new LeafFormatError('a field is not UTF-8');
  }
  if (f[0] !== LEAF_FORMAT) throw new LeafFormatError(`format '${f[0]}' is not ${LEAF_FORMAT}`);
  const type = f[1];
  let leaf: LogLeaf;
  if (type === 'add' || type === 'remove') {
    if (f.length !== 13) throw new LeafFormatError(`a ${type} leaf has 13 fields, not ${f.length}`);
    leaf = {
      type,
      version: int(f[2], 'version'),
      category: oneOf(f[3], CATEGORIES, 'category'),
      action: oneOf(f[4], ACTIONS, 'action'),
      order: {
        id: int(f[5], 'order id'),
        reference: f[6] as string,
        authority: f[7] as string,
        reason: f[8] as string,
      },
      note: f[9] as string,
      seq: int(f[10], 'seq'),
      target: f[11] as string,
      kind: oneOf(f[12], ['domain', 'url'] as const, 'kind'),
    };
  } else {
    const event = oneOf(type, ORDER_EVENTS, 'leaf type');
    if (f.length !== 12) throw new LeafFormatError(`an ${event} leaf has 12 fields, not ${f.length}`);
    leaf = {
      type: event,
      version: int(f[2], 'version'),
      order: {
        id: int(f[3], 'order id'),
        reference: f[4] as string,
        authority: f[5] as string,
        category: oneOf(f[6], CATEGORIES, 'category'),
        action: oneOf(f[7], ACTIONS, 'action'),
        reason: f[8] as string,
        issuedAt: f[9] as string,
        expiresAt: f[10] as string,
      },
      detail: f[11] as string,
    };
  }
  const again = encodeLeaf(leaf);
  if (again.length !== bytes.length || again.some((b, i) => b !== bytes[i])) {
    throw new LeafFormatError('leaf is not in canonical form');
  }
  return leaf;
}

export const isChangeLeaf = (leaf: LogLeaf): leaf is ChangeLeaf =>
  leaf.type === 'add' || leaf.type === 'remove';
