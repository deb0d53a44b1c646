/**
 * Sorted key sets of the `filter` feed: building them from expressions, searching, merging a delta in,
 * and the state checksum that snapshots and deltas announce.
 */
import { sha256Hex } from './bytes.ts';
import { confirmationKey, MAX_CONFIRMATION_BITS } from './confirm.ts';
import { hashExpression } from './hash.ts';

const TWO_32 = 2 ** 32;

/** The sorted unique confirmation keys of `expressions` at `bits`. */
export function keysOf(expressions: Iterable<string>, bits: number): Float64Array {
  const hash = new Uint32Array(4);
  const keys: number[] = [];
  for (const expression of expressions) {
    hashExpression(expression, hash);
    keys.push(confirmationKey(hash, bits));
  }
  return sortUnique(Float64Array.from(keys));
}

/** `keys` sorted ascending without repeats (sorts in place; the result may be a view of `keys`). */
export function sortUnique(keys: Float64Array): Float64Array {
  keys.sort();
  let length = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as number;
    if (length === 0 || key !== keys[length - 1]) keys[length++] = key;
  }
  return keys.subarray(0, length);
}

/**
 * Sorted unique full-width (53-bit) keys narrowed to `bits`, in place: a narrow key is the top bits of the
 * wide one, so order is kept and only neighbours can merge.
 */
export function narrowKeys(wideKeys: Float64Array, bits: number): Float64Array {
  const scale = 2 ** (bits - MAX_CONFIRMATION_BITS);
  let length = 0;
  for (let i = 0; i < wideKeys.length; i++) {
    const key = Math.floor((wideKeys[i] as number) * scale);
    if (length === 0 || key !== wideKeys[length - 1]) wideKeys[length++] = key;
  }
  return wideKeys.subarray(0, length);
}

/** Whether sorted `keys` holds `key` (binary search; allocates nothing). */
export function containsKey(keys: Float64Array, key: number): boolean {
  let low = 0;
  let high = keys.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const value = keys[middle] as number;
    if (value < key) low = middle + 1;
    else if (value > key) high = middle - 1;
    else return true;
  }
  return false;
}

/** Whether two sorted key sets share a key. */
export function intersects(a: Float64Array, b: Float64Array): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) return true;
    if (x < y) i++;
    else j++;
  }
  return false;
}

/** The keys of `a` that are not in `b` (both sorted). */
export function difference(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  let length = 0;
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    while (j < b.length && (b[j] as number) < x) j++;
    if (j >= b.length || b[j] !== x) out[length++] = x;
  }
  return out.subarray(0, length);
}

/**
 * `base` with `added` put in and `removed` taken out, as a new sorted array (all three sorted). Set
 * semantics: adding a present key or removing an absent one changes nothing.
 */
export function applyKeyChanges(
  base: Float64Array,
  added: Float64Array,
  removed: Float64Array,
): Float64Array {
  const out = new Float64Array(base.length + added.length);
  let length = 0;
  let i = 0;
  let j = 0;
  let r = 0;
  while (i < base.length || j < added.length) {
    let next: number;
    const x = i < base.length ? (base[i] as number) : Number.POSITIVE_INFINITY;
    const y = j < added.length ? (added[j] as number) : Number.POSITIVE_INFINITY;
    if (x <= y) {
      next = x;
      i++;
      if (x === y) j++;
    } else {
      next = y;
      j++;
    }
    while (r < removed.length && (removed[r] as number) < next) r++;
    if (r < removed.length && removed[r] === next) continue;
    out[length++] = next;
  }
  return out.slice(0, length);
}

/** Lower-case hex SHA-256 over sorted unique `keys`, each written as 8 bytes big-endian. */
export function keySetChecksum(keys: Float64Array): Promise<string> {
  const bytes = new Uint8Array(keys.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as number;
    view.setUint32(i * 8, Math.floor(key / TWO_32));
    view.setUint32(i * 8 + 4, key % TWO_32);
  }
  return sha256Hex(bytes);
}
