/**
 * One key class of a consumer's `filter` state after deltas: the snapshot's coded keys (filter-coded-keys.ts),
 * left as they are, plus what the deltas since changed: the snapshot keys removed (by index) and the keys added
 * (sorted, with their tails and extensions). A delta costs in proportion to the changes since the snapshot,
 * never to the snapshot's size, and nothing of the snapshot is copied (docs/DECISIONS.md).
 *
 * An added key is confirmed by its head, tail and extension all equal to the member's: the snapshot's Bloom
 * filter is a view of the payload and takes no elements, and an exact extension lets a non-member whose key
 * equals an added key through with chance 2^-8, below the f + 2^-8 of the bound (confirm.ts).
 */
import type { KeySource } from './filter-checksum.ts';
import type { CodedKeys } from './filter-coded-keys.ts';
import { containsKey, type ExtendedKeys, indexOfKey, TAIL_ANY } from './filter-keys.ts';

/** Keys added since the snapshot, sorted, none of them held by the snapshot's kept keys. */
interface AddedKeys extends ExtendedKeys {
  /** For each, how many snapshot keys are below it (removed ones included). */
  below: Uint32Array;
}

const NO_ADDED: AddedKeys = {
  keys: new Float64Array(0),
  tails: new Uint16Array(0),
  extensions: new Uint16Array(0),
  below: new Uint32Array(0),
};

/** A class's keys: the snapshot's less the removed, plus the added. Immutable. */
export class KeySet {
  private constructor(
    private readonly base: CodedKeys,
    /** Sorted indexes of removed snapshot keys (4 bytes each: a large revoke leaves many). */
    private readonly removed: Uint32Array,
    private readonly added: AddedKeys,
  ) {}

  /** The snapshot's keys, unchanged. */
  static of(base: CodedKeys): KeySet {
    return new KeySet(base, new Uint32Array(0), NO_ADDED);
  }

  /** Keys held. */
  get count(): number {
    return this.base.count - this.removed.length + this.added.keys.length;
  }

  /** Whether deltas added keys since the snapshot. */
  get changed(): boolean {
    return this.added.keys.length > 0;
  }

  /**
   * Whether a snapshot key with this head and tail is held: the check after a Bloom hit. A removed key is not
   * (though the Bloom filter still has its bits).
   */
  holdsSnapshotKey(head: number, tail: number): boolean {
    const at = this.base.indexOf(head);
    if (at < 0 || (this.removed.length > 0 && containsKey(this.removed, at))) return false;
    const held = this.base.tailAt(at);
    return held === tail || held === TAIL_ANY;
  }

  /** Whether a key added since the snapshot has this head, tail and extension. */
  holdsAddedKey(head: number, tail: number, extension: number): boolean {
    const added = this.added;
    if (added.keys.length === 0) return false;
    const at = indexOfKey(added.keys, head);
    return at >= 0 && added.tails[at] === tail && added.extensions[at] === extension;
  }

  /** Whether a key with this head is held, whatever its tail. */
  hasHead(head: number): boolean {
    if (containsKey(this.added.keys, head)) return true;
    const at = this.base.indexOf(head);
    return at >= 0 && !containsKey(this.removed, at);
  }

  /**
   * The set after a delta: without the keys at `ranks` (sorted indexes into this set) and with `plus` (sorted,
   * none held after the removal). Null when a rank is out of range or an added key is held: the delta was
   * made for another state.
   */
  apply(plus: ExtendedKeys, ranks: Float64Array): KeySet | null {
    if (ranks.length > 0 && (ranks[ranks.length - 1] as number) >= this.count) return null;
    const { removed, added } = this;
    // Where each added key stands in this set: its index among the added plus the kept snapshot keys below it.
    const addedAt = new Float64Array(added.keys.length);
    for (let j = 0, r = 0; j < addedAt.length; j++) {
      const below = added.below[j] as number;
      while (r < removed.length && (removed[r] as number) < below) r++;
      addedAt[j] = j + below - r;
    }
    const dropAdded = new Uint8Array(added.keys.length);
    const newlyRemoved: number[] = [];
    let j = 0;
    let r = 0;
    for (const rank of ranks) {
      while (j < addedAt.length && (addedAt[j] as number) < rank) j++;
      if (j < addedAt.length && addedAt[j] === rank) {
        dropAdded[j] = 1;
        continue;
      }
      // The (rank - j)-th kept snapshot key: its index counts the removed ones at or below it.
      const kept = rank - j;
      let index = kept + r;
      while (r < removed.length && (removed[r] as number) <= index) index = kept + ++r;
      newlyRemoved.push(index);
    }
    const nextRemoved = mergeSorted(removed, Uint32Array.from(newlyRemoved));
    const kept: number[] = [];
    for (let i = 0; i < added.keys.length; i++) if (dropAdded[i] === 0) kept.push(i);
    const incoming = new Uint32Array(plus.keys.length);
    for (let i = 0; i < plus.keys.length; i++) {
      const key = plus.keys[i] as number;
      const at = this.base.indexOf(key);
      if (at >= 0 && !containsKey(nextRemoved, at)) return null;
      incoming[i] = at >= 0 ? at : this.base.lowerBound(key);
    }
    const next = mergeAdded(added, kept, plus, incoming);
    return next === null ? null : new KeySet(this.base, nextRemoved, next);
  }

  /** The held keys in order, for the checksum. */
  reader(): KeySource {
    const base = this.base.reader();
    const { removed, added } = this;
    if (removed.length === 0 && added.keys.length === 0) return base;
    const run = new Float64Array(4096);
    /** Snapshot keys of `run` not yet merged, and the snapshot index of `run[0]`. */
    let start = 0;
    let end = 0;
    let runIndex = 0;
    let r = 0;
    let j = 0;
    return {
      count: this.count,
      read: (out) => {
        let at = 0;
        while (at < out.length) {
          if (start === end) {
            runIndex += end;
            start = 0;
            end = base.read(run);
          }
          // Skip removed snapshot keys.
          while (start < end && r < removed.length && removed[r] === runIndex + start) {
            r++;
            start++;
          }
          if (start === end && end > 0) continue;
          const snapshot = start < end ? (run[start] as number) : Number.POSITIVE_INFINITY;
          const plus = j < added.keys.length ? (added.keys[j] as number) : Number.POSITIVE_INFINITY;
          if (snapshot === Number.POSITIVE_INFINITY && plus === Number.POSITIVE_INFINITY) break;
          if (snapshot < plus) {
            out[at++] = snapshot;
            start++;
          } else {
            out[at++] = plus;
            j++;
          }
        }
        return at;
      },
    };
  }
}

/** Sorted union of two sorted lists with nothing in common. */
function mergeSorted(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (b.length === 0) return a;
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  for (let at = 0; at < out.length; at++) {
    const x = i < a.length ? (a[i] as number) : Number.POSITIVE_INFINITY;
    const y = j < b.length ? (b[j] as number) : Number.POSITIVE_INFINITY;
    if (x < y) {
      out[at] = x;
      i++;
    } else {
      out[at] = y;
      j++;
    }
  }
  return out;
}

/**
 * The added keys at indexes `kept` of `added`, merged with `plus` (whose snapshot lower bounds are `below`);
 * null when a key of `plus` is among the kept ones.
 */
function mergeAdded(
  added: AddedKeys,
  kept: readonly number[],
  plus: ExtendedKeys,
  below: Uint32Array,
): AddedKeys | null {
  const length = kept.length + plus.keys.length;
  const out: AddedKeys = {
    keys: new Float64Array(length),
    tails: new Uint16Array(length),
    extensions: new Uint16Array(length),
    below: new Uint32Array(length),
  };
  let i = 0;
  let j = 0;
  for (let at = 0; at < length; at++) {
    const old = i < kept.length ? (kept[i] as number) : -1;
    const x = old >= 0 ? (added.keys[old] as number) : Number.POSITIVE_INFINITY;
    const y = j < plus.keys.length ? (plus.keys[j] as number) : Number.POSITIVE_INFINITY;
    if (x === y) return null;
    if (x < y) {
      out.keys[at] = x;
      out.tails[at] = added.tails[old] as number;
      out.extensions[at] = added.extensions[old] as number;
      out.below[at] = added.below[old] as number;
      i++;
    } else {
      out.keys[at] = y;
      out.tails[at] = plus.tails[j] as number;
      out.extensions[at] = plus.extensions[j] as number;
      out.below[at] = below[j] as number;
      j++;
    }
  }
  return out;
}
