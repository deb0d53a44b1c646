/**
 * The hub's mirror of the `filter` feed: the full-width (53-bit) confirmation key of every active
 * expression, sorted, repeats kept (two expressions may share a key). A key of any narrower width is a
 * prefix of the wide one, so from this one array the hub derives the key set, checksum and deltas for
 * whatever width a consumer's snapshot used, and knows when removing an expression really removes its key.
 */

import { confirmationKey, MAX_CONFIRMATION_BITS } from '../core/confirm.ts';
import { keySetChecksum, narrowKeys } from '../core/filter-keys.ts';
import { hashExpression } from '../core/hash.ts';

/** What a manifest announces about a key set. */
export interface KeySetSummary {
  entryCount: number;
  checksum: string;
}

/** The mirror does not hold what a change removes: it no longer matches the registry. */
export class MirrorDivergedError extends Error {
  override name = 'MirrorDivergedError';
}

const hash = new Uint32Array(4);

/** The 53-bit confirmation key of an expression. */
export function wideKey(expression: string): number {
  hashExpression(expression, hash);
  return confirmationKey(hash, MAX_CONFIRMATION_BITS);
}

/** The sorted wide keys of `expressions`, repeats kept. */
export function wideKeysOf(expressions: Iterable<string>): Float64Array {
  const keys: number[] = [];
  for (const expression of expressions) keys.push(wideKey(expression));
  return Float64Array.from(keys).sort();
}

/** The wide key set of one registry version; immutable, derived sets are computed once. */
export class FilterMirror {
  readonly #narrow = new Map<number, Float64Array>();
  readonly #summaries = new Map<number, Promise<KeySetSummary>>();

  private constructor(readonly wide: Float64Array) {}

  /** A mirror of sorted wide keys (as {@link wideKeysOf} returns them); not copied. */
  static fromWideKeys(sorted: Float64Array): FilterMirror {
    return new FilterMirror(sorted);
  }

  /** Active expressions, counting two that share a key twice. */
  get expressionCount(): number {
    return this.wide.length;
  }

  /**
   * The mirror after net changes: `added` expressions were absent, `removed` ones present. Throws
   * {@link MirrorDivergedError} when a removed key is not held.
   */
  apply(added: readonly string[], removed: readonly string[]): FilterMirror {
    const plus = wideKeysOf(added);
    const minus = wideKeysOf(removed);
    const wide = this.wide;
    if (minus.length > wide.length)
      throw new MirrorDivergedError('filter mirror holds fewer keys than changes remove');
    const out = new Float64Array(wide.length + plus.length - minus.length);
    // Runs of unchanged keys are block copies: the cost is one memory copy plus a search per change.
    let from = 0;
    let length = 0;
    let i = 0;
    let j = 0;
    while (i < plus.length || j < minus.length) {
      const add = i < plus.length && (j >= minus.length || (plus[i] as number) <= (minus[j] as number));
      const key = (add ? plus[i++] : minus[j++]) as number;
      const at = lowerBound(wide, key, from);
      out.set(wide.subarray(from, at), length);
      length += at - from;
      from = at;
      if (add) out[length++] = key;
      else if (wide[from] === key) from++;
      else throw new MirrorDivergedError(`filter mirror lacks a key that a change removes (${key})`);
    }
    out.set(wide.subarray(from), length);
    return new FilterMirror(out);
  }

  /** The sorted distinct keys at `bits`: the key set of a consumer state of that width. */
  keys(bits: number): Float64Array {
    let keys = this.#narrow.get(bits);
    if (!keys) {
      keys = narrowKeys(this.wide.slice(), bits);
      this.#narrow.set(bits, keys);
    }
    return keys;
  }

  /** Entry count and checksum of the key set at `bits`, as a manifest announces them. */
  summary(bits: number): Promise<KeySetSummary> {
    let summary = this.#summaries.get(bits);
    if (!summary) {
      const keys = this.keys(bits);
      summary = keySetChecksum(keys).then((checksum) => ({ entryCount: keys.length, checksum }));
      this.#summaries.set(bits, summary);
    }
    return summary;
  }

  /**
   * Of the net expression changes from some earlier version to this one, those that change the key set at
   * `bits`: an added expression whose key another expression already held, or a removed one whose key
   * another expression still holds, leaves the set as it was (a delta must not carry it).
   */
  keyChanges(
    added: readonly string[],
    removed: readonly string[],
    bits: number,
  ): { added: string[]; removed: string[] } {
    const scale = 2 ** (bits - MAX_CONFIRMATION_BITS);
    const narrow = (expression: string) => Math.floor(wideKey(expression) * scale);
    const addedPerKey = tally(added.map(narrow));
    const removedPerKey = tally(removed.map(narrow));
    const heldNow = (key: number) => this.#count(key, bits);
    const heldBefore = (key: number) =>
      heldNow(key) - (addedPerKey.get(key) ?? 0) + (removedPerKey.get(key) ?? 0);
    return {
      added: added.filter((expression) => heldBefore(narrow(expression)) === 0),
      removed: removed.filter((expression) => heldNow(narrow(expression)) === 0),
    };
  }

  /** How many expressions hold the `bits`-wide key `key`: the wide keys in its range. */
  #count(key: number, bits: number): number {
    const span = 2 ** (MAX_CONFIRMATION_BITS - bits);
    return lowerBound(this.wide, (key + 1) * span) - lowerBound(this.wide, key * span);
  }
}

function tally(keys: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/** First index at or after `from` whose value is >= `value` in sorted `keys`. */
function lowerBound(keys: Float64Array, value: number, from = 0): number {
  let low = from;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as number) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
