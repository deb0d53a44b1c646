/**
 * Merkle trees of RFC 9162 (Certificate Transparency 2.0), section 2.1: leaf and node hashing, the root of a
 * tree of any size, inclusion and consistency proofs and their verification. Proofs are generated from the
 * hashes of complete subtrees (what a log stores as tiles), read through `NodeReader`, so a proof at any
 * tree size touches O(log n) stored hashes and never the leaves.
 */
import { equalBytes } from './bytes.ts';
import { sha256Node, sha256Parts, sha256Sync } from './sha256.ts';

export const HASH_BYTES = 32;

/** MTH({}) = SHA-256() */
export const EMPTY_ROOT: Uint8Array = sha256Sync(new Uint8Array(0));

/** MTH({d}) = SHA-256(0x00 || d) */
export const hashLeaf = (leaf: Uint8Array): Uint8Array => sha256Parts(0x00, leaf);

/** SHA-256(0x01 || left || right) */
export const hashChildren = (left: Uint8Array, right: Uint8Array): Uint8Array =>
  left.length === HASH_BYTES && right.length === HASH_BYTES
    ? sha256Node(left, right)
    : sha256Parts(0x01, left, right);

/**
 * The hash of the complete subtree of height `level` at `index`: the root of leaves
 * [index * 2^level, (index + 1) * 2^level). Level 0 is the leaf hashes. Callers only ask for subtrees that
 * are complete in the tree size they prove.
 */
export type NodeReader = (level: number, index: number) => Uint8Array;

/** The largest power of two smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const log2 = (n: number): number => Math.round(Math.log2(n));
const isPowerOfTwo = (n: number): boolean => n > 0 && 2 ** log2(n) === n;

/**
 * MTH(D[start:end]) for the subtrees RFC 9162 proofs visit: `start` is a multiple of a power of two at least
 * as large as the range, so the range is one complete subtree or a left-full split of one.
 */
function rangeHash(read: NodeReader, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n <= 0) throw new RangeError(`empty range [${start}, ${end})`);
  if (isPowerOfTwo(n) && start % n === 0) {
    const level = log2(n);
    return read(level, start / n);
  }
  const k = splitPoint(n);
  return hashChildren(rangeHash(read, start, start + k), rangeHash(read, start + k, end));
}

/** The root of a tree of `size` leaves (EMPTY_ROOT for 0). */
export const treeRoot = (read: NodeReader, size: number): Uint8Array =>
  size === 0 ? EMPTY_ROOT : rangeHash(read, 0, size);

/** Thrown for a proof request outside the tree; the message names the bad number. */
class ProofRangeError extends RangeError {
  override name = 'ProofRangeError';
}

/** PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1, deepest sibling first. */
export function inclusionProof(read: NodeReader, index: number, size: number): Uint8Array[] {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) {
    throw new ProofRangeError(`leaf ${index} is not in a tree of size ${size}`);
  }
  const proof: Uint8Array[] = [];
  const path = (start: number, end: number): void => {
    if (end - start === 1) return;
    const k = splitPoint(end - start);
    if (index < start + k) {
      path(start, start + k);
      proof.push(rangeHash(read, start + k, end));
    } else {
      path(start + k, end);
      proof.push(rangeHash(read, start, start + k));
    }
  };
  path(0, size);
  return proof;
}

/** PROOF(first, D[0:second]) of RFC 9162 section 2.1.4.1 (empty when the sizes are equal). */
export function consistencyProof(read: NodeReader, first: number, second: number): Uint8Array[] {
  if (!(Number.isSafeInteger(first) && Number.isSafeInteger(second) && first >= 1 && first <= second)) {
    throw new ProofRangeError(`no consistency proof from size ${first} to size ${second}`);
  }
  const proof: Uint8Array[] = [];
  const subproof = (m: number, start: number, end: number, complete: boolean): void => {
    const n = end - start;
    if (m === n) {
      if (!complete) proof.push(rangeHash(read, start, end));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      subproof(m, start, start + k, complete);
      proof.push(rangeHash(read, start + k, end));
    } else {
      subproof(m - k, start + k, end, false);
      proof.push(rangeHash(read, start, start + k));
    }
  };
  if (first < second) subproof(first, 0, second, true);
  return proof;
}

const odd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

/** RFC 9162 section 2.1.3.2: whether `proof` shows `leafHash` at `index` in the tree of `size` with `root`. */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size))
    return false;
  if (leafHash.length !== HASH_BYTES) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0 || p.length !== HASH_BYTES) return false;
    if (odd(fn) || fn === sn) {
      r = hashChildren(p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(r, root);
}

/**
 * RFC 9162 section 2.1.4.2: whether `proof` shows the tree of `first` leaves with `firstRoot` to be a prefix
 * of the tree of `second` leaves with `secondRoot`. Equal sizes need an empty proof and equal roots; a first
 * size of 0 proves nothing and is refused (no checkpoint of an empty log is ever signed).
 */
export function verifyConsistency(
  first: number,
  second: number,
  proof: readonly Uint8Array[],
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
): boolean {
  if (!(Number.isSafeInteger(first) && Number.isSafeInteger(second)) || first < 1 || first > second) {
    return false;
  }
  if (first === second) return proof.length === 0 && equalBytes(firstRoot, secondRoot);
  if (proof.length === 0 || proof.some((p) => p.length !== HASH_BYTES)) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(fr, firstRoot) && equalBytes(sr, secondRoot);
}

/**
 * A tree built leaf by leaf keeping only its right edge (the complete subtrees of the binary decomposition
 * of its size): O(log n) memory, one hash per leaf on average, the root at any size. What a verifier uses
 * to recompute a whole log from its entries.
 */
export class TreeBuilder {
  /** Complete subtree roots, largest (leftmost) first; their heights are the set bits of `size`. */
  private readonly edge: Uint8Array[] = [];
  size = 0;

  /** Appends a leaf hash. */
  push(leafHash: Uint8Array): void {
    let h = leafHash;
    // Each trailing one bit of the old size is a complete subtree that the new leaf completes a parent of.
    for (let s = this.size; odd(s); s = half(s)) h = hashChildren(this.edge.pop() as Uint8Array, h);
    this.edge.push(h);
    this.size++;
  }

  /** MTH of the leaves pushed so far. */
  root(): Uint8Array {
    if (this.edge.length === 0) return EMPTY_ROOT;
    let r = this.edge[this.edge.length - 1] as Uint8Array;
    for (let i = this.edge.length - 2; i >= 0; i--) r = hashChildren(this.edge[i] as Uint8Array, r);
    return r;
  }
}
