/**
 * Sorted key sets of the `filter` feed: building them from expressions, searching, merging a delta in,
 * and the state checksum that snapshots and deltas announce. A state has one key set per key class.
 */

import {
  confirmationKey,
  headBits,
  isRootExpression,
  KEY_HEAD_BITS,
  type KeyWidths,
  keyExtension,
  keyTail,
  type PerClass,
} from './confirm.ts';
import { arraySource, keySourcesChecksum } from './filter-checksum.ts';
import { hashExpression } from './hash.ts';

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

/** A tail that matches any tail: the key of two members whose heads are equal and tails differ. */
export const TAIL_ANY = 0xffff;

/** Sorted unique key heads, each with its tail (0 for keys of at most 53 bits) and the extension of a member. */
export interface ExtendedKeys {
  keys: Float64Array;
  tails: Uint16Array;
  extensions: Uint16Array;
}

/**
 * The keys of `expressions` per class at its width, each with its tail and extension (of the expression whose
 * tail, then extension, is smallest when two share a head): what a delta adds to a consumer's state.
 */
export function extendedKeysOf(expressions: Iterable<string>, bits: KeyWidths): PerClass<ExtendedKeys> {
  const hash = new Uint32Array(4);
  const found = { root: [] as [number, number, number][], path: [] as [number, number, number][] };
  for (const expression of expressions) {
    hashExpression(expression, hash);
    const root = isRootExpression(expression);
    const width = root ? bits.root : bits.path;
    (root ? found.root : found.path).push([
      confirmationKey(hash, width),
      keyTail(hash, width),
      keyExtension(hash),
    ]);
  }
  const sorted = (list: [number, number, number][]): ExtendedKeys => {
    list.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    const unique = list.filter((entry, i) => i === 0 || entry[0] !== (list[i - 1] as number[])[0]);
    return {
      keys: Float64Array.from(unique, (entry) => entry[0]),
      tails: Uint16Array.from(unique, (entry) => entry[1]),
      extensions: Uint16Array.from(unique, (entry) => entry[2]),
    };
  };
  return { root: sorted(found.root), path: sorted(found.path) };
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
 * Sorted unique full-head (53-bit) keys narrowed to the heads of keys of width `bits`, in place: a narrow key is
 * the top bits of the wide one, so order is kept and only neighbours can merge.
 */
export function narrowKeys(wideKeys: Float64Array, bits: number): Float64Array {
  const scale = 2 ** (headBits(bits) - KEY_HEAD_BITS);
  let length = 0;
  for (let i = 0; i < wideKeys.length; i++) {
    const key = Math.floor((wideKeys[i] as number) * scale);
    if (length === 0 || key !== wideKeys[length - 1]) wideKeys[length++] = key;
  }
  return wideKeys.subarray(0, length);
}

/** Whether sorted `keys` holds `key` (binary search; allocates nothing). */
export const containsKey = (keys: Float64Array | Uint32Array, key: number): boolean =>
  indexOfKey(keys, key) >= 0;

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

/** One class of a consumer's keys: sorted unique heads and, for keys wider than 53 bits, their tails. */
export interface TailedKeys {
  keys: Float64Array;
  tails: Uint16Array | null;
}

/** The index of `key` in sorted `keys`, or -1 (binary search; allocates nothing). */
export function indexOfKey(keys: Float64Array | Uint32Array, key: number): number {
  let low = 0;
  let high = keys.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const value = keys[middle] as number;
    if (value < key) low = middle + 1;
    else if (value > key) high = middle - 1;
    else return middle;
  }
  return -1;
}

/**
 * The indexes that the sorted keys `removed` had in the key set before a change that ends at `after` (sorted,
 * holding `added` and none of `removed`): what a delta names removed keys by, far fewer bits than the keys.
 * Throws RangeError when `after` still holds a removed key.
 */
export function removedRanks(after: Float64Array, added: Float64Array, removed: Float64Array): Float64Array {
  const ranks = new Float64Array(removed.length);
  let addedBelow = 0;
  for (let j = 0; j < removed.length; j++) {
    const key = removed[j] as number;
    while (addedBelow < added.length && (added[addedBelow] as number) < key) addedBelow++;
    const below = lowerBound(after, key);
    if (after[below] === key) throw new RangeError(`removed key ${key} is still in the key set`);
    // Keys below it before the change: those below it now, less the added ones, plus the removed ones.
    ranks[j] = below - addedBelow + j;
  }
  return ranks;
}

/** First index at or after `from` whose value is >= `value` in sorted `keys`. */
export function lowerBound(keys: Float64Array, value: number, from = 0): number {
  let low = from;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as number) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The state checksum: lower-case hex SHA-256 over the root key count, then the sorted root keys, then the
 * sorted path keys, each number written as 8 bytes big-endian (filter-checksum.ts). The count marks where the
 * classes meet, so two states that differ only in the class of a key never share a checksum.
 */
export const keySetChecksum = (keys: ClassKeys): Promise<string> =>
  keySourcesChecksum(arraySource(keys.root), arraySource(keys.path));
