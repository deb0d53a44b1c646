/**
 * Sorted key sets of the `filter` feed: building them from expressions, searching, merging a delta in,
 * and the state checksum that snapshots and deltas announce. A state has one key set per key class.
 */
import { sha256Hex } from './bytes.ts';
import {
  confirmationKey,
  isRootExpression,
  type KeyWidths,
  MAX_CONFIRMATION_BITS,
  type PerClass,
} from './confirm.ts';
import { hashExpression } from './hash.ts';

const TWO_32 = 2 ** 32;

/** The sorted unique keys of each class. */
export type ClassKeys = PerClass<Float64Array>;

/** Expressions split by key class, in input order. */
export function byKeyClass(expressions: Iterable<string>): PerClass<string[]> {
  const root: string[] = [];
  const path: string[] = [];
  for (const expression of expressions) (isRootExpression(expression) ? root : path).push(expression);
  return { root, path };
}

/** The sorted unique confirmation keys of `expressions`, each class at its width. */
export function keysOf(expressions: Iterable<string>, bits: KeyWidths): ClassKeys {
  const hash = new Uint32Array(4);
  const root: number[] = [];
  const path: number[] = [];
  for (const expression of expressions) {
    hashExpression(expression, hash);
    if (isRootExpression(expression)) root.push(confirmationKey(hash, bits.root));
    else path.push(confirmationKey(hash, bits.path));
  }
  return { root: sortUnique(Float64Array.from(root)), path: sortUnique(Float64Array.from(path)) };
}

/** Keys of both classes: the entry count a manifest announces. */
export const keyCount = (keys: ClassKeys): number => keys.root.length + keys.path.length;

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

/**
 * The state checksum: lower-case hex SHA-256 over the root key count, then the sorted root keys, then the
 * sorted path keys, each number written as 8 bytes big-endian. The count marks where the classes meet, so two
 * states that differ only in the class of a key never share a checksum.
 */
export function keySetChecksum(keys: ClassKeys): Promise<string> {
  const { root, path } = keys;
  const bytes = new Uint8Array((1 + root.length + path.length) * 8);
  const view = new DataView(bytes.buffer);
  const put = (at: number, value: number) => {
    view.setUint32(at * 8, Math.floor(value / TWO_32));
    view.setUint32(at * 8 + 4, value % TWO_32);
  };
  put(0, root.length);
  for (let i = 0; i < root.length; i++) put(1 + i, root[i] as number);
  for (let i = 0; i < path.length; i++) put(1 + root.length + i, path[i] as number);
  return sha256Hex(bytes);
}
