/**
 * The hub's mirror of the `filter` feed: the full 53-bit head of the confirmation key of every active
 * expression, sorted per key class, repeats kept (two expressions may share a key). A key of any narrower
 * width is a prefix of the wide one, so from these arrays the hub derives the key sets, checksum and deltas
 * for whatever widths a consumer's snapshot used, and knows when removing an expression really removes its key.
 */

import {
  confirmationKey,
  headBits,
  isRootExpression,
  KEY_HEAD_BITS,
  type KeyClass,
  type KeyWidths,
  keyWidthsText,
  type PerClass,
} from '../core/confirm.ts';
import {
  byKeyClass,
  type ClassKeys,
  keyCount,
  keySetChecksum,
  lowerBound,
  narrowKeys,
} from '../core/filter-keys.ts';
import { hashExpression } from '../core/hash.ts';

/** What a manifest announces about a state's key sets. */
export interface KeySetSummary {
  entryCount: number;
  checksum: string;
}

/** The mirror does not hold what a change removes: it no longer matches the registry. */
export class MirrorDivergedError extends Error {
  override name = 'MirrorDivergedError';
}

const hash = new Uint32Array(4);

/** The 53-bit confirmation key head of an expression. */
export function wideKey(expression: string): number {
  hashExpression(expression, hash);
  return confirmationKey(hash, KEY_HEAD_BITS);
}

/** The sorted wide keys of `expressions` per key class, repeats kept. */
export function wideKeysOf(expressions: Iterable<string>): PerClass<Float64Array> {
  const root: number[] = [];
  const path: number[] = [];
  for (const expression of expressions)
    (isRootExpression(expression) ? root : path).push(wideKey(expression));
  return { root: Float64Array.from(root).sort(), path: Float64Array.from(path).sort() };
}

/** The wide key sets of one registry version; immutable, derived sets are computed once. */
export class FilterMirror {
  readonly #narrow = { root: new Map<number, Float64Array>(), path: new Map<number, Float64Array>() };
  readonly #summaries = new Map<string, Promise<KeySetSummary>>();

  private constructor(readonly wide: PerClass<Float64Array>) {}

  /** A mirror of sorted wide keys (as {@link wideKeysOf} returns them); not copied. */
  static fromWideKeys(sorted: PerClass<Float64Array>): FilterMirror {
    return new FilterMirror(sorted);
  }

  /** Active expressions, counting two that share a key twice. */
  get expressionCount(): number {
    return this.wide.root.length + this.wide.path.length;
  }

  /**
   * The mirror after net changes: `added` expressions were absent, `removed` ones present. Throws
   * {@link MirrorDivergedError} when a removed key is not held.
   */
  apply(added: readonly string[], removed: readonly string[]): FilterMirror {
    return runSteps(this.applySteps(added, removed));
  }

  /**
   * {@link apply} in bounded steps: the generator yields after every step of work (hashing a slice of the
   * changes, or copying a run of unchanged keys), so the hub can let its event loop turn between steps.
   */
  *applySteps(added: readonly string[], removed: readonly string[]): Generator<void, FilterMirror> {
    const plus = yield* wideKeysInSteps(added);
    const minus = yield* wideKeysInSteps(removed);
    return new FilterMirror({
      root: yield* applyWide(this.wide.root, plus.root, minus.root),
      path: yield* applyWide(this.wide.path, plus.path, minus.path),
    });
  }

  /** The sorted distinct keys at `bits`: the key sets of a consumer state of those widths. */
  keys(bits: KeyWidths): ClassKeys {
    return { root: this.#narrowed('root', bits.root), path: this.#narrowed('path', bits.path) };
  }

  /** Entry count and checksum of the key sets at `bits`, as a manifest announces them. */
  summary(bits: KeyWidths): Promise<KeySetSummary> {
    const id = keyWidthsText(bits);
    let summary = this.#summaries.get(id);
    if (!summary) {
      const keys = this.keys(bits);
      summary = keySetChecksum(keys).then((checksum) => ({ entryCount: keyCount(keys), checksum }));
      this.#summaries.set(id, summary);
    }
    return summary;
  }

  /**
   * Of the net expression changes from some earlier version to this one, those that change the key sets at
   * `bits`: an added expression whose key another expression of its class already held, or a removed one
   * whose key another one still holds, leaves the sets as they were (a delta must not carry it).
   */
  keyChanges(
    added: readonly string[],
    removed: readonly string[],
    bits: KeyWidths,
  ): { added: string[]; removed: string[] } {
    const plus = byKeyClass(added);
    const minus = byKeyClass(removed);
    const root = classKeyChanges(this.wide.root, plus.root, minus.root, bits.root);
    const path = classKeyChanges(this.wide.path, plus.path, minus.path, bits.path);
    return { added: [...root.added, ...path.added], removed: [...root.removed, ...path.removed] };
  }

  #narrowed(cls: KeyClass, bits: number): Float64Array {
    let keys = this.#narrow[cls].get(bits);
    if (!keys) {
      keys = narrowKeys(this.wide[cls].slice(), bits);
      this.#narrow[cls].set(bits, keys);
    }
    return keys;
  }
}

/** Expressions hashed per step of {@link FilterMirror.applySteps}. */
const EXPRESSIONS_PER_STEP = 2000;
/** Unchanged keys copied per step: a few milliseconds of memory copy. */
const KEYS_PER_STEP = 1 << 21;

/** Runs a stepwise computation to its end at once. */
export function runSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** {@link wideKeysOf}, yielding after every slice of expressions. */
function* wideKeysInSteps(expressions: readonly string[]): Generator<void, PerClass<Float64Array>> {
  const root: number[] = [];
  const path: number[] = [];
  for (let i = 0; i < expressions.length; i++) {
    const expression = expressions[i] as string;
    (isRootExpression(expression) ? root : path).push(wideKey(expression));
    if ((i + 1) % EXPRESSIONS_PER_STEP === 0) yield;
  }
  return { root: Float64Array.from(root).sort(), path: Float64Array.from(path).sort() };
}

/**
 * Sorted wide keys `wide` plus `plus` minus `minus` (both sorted); throws when a removed key is absent.
 * Yields whenever about {@link KEYS_PER_STEP} keys were copied or searched for since the last step.
 */
function* applyWide(
  wide: Float64Array,
  plus: Float64Array,
  minus: Float64Array,
): Generator<void, Float64Array> {
  if (minus.length > wide.length)
    throw new MirrorDivergedError('filter mirror holds fewer keys than changes remove');
  if (plus.length + minus.length === 0) return wide;
  const out = new Float64Array(wide.length + plus.length - minus.length);
  // Runs of unchanged keys are block copies: the cost is one memory copy plus a search per change.
  let from = 0;
  let length = 0;
  let i = 0;
  let j = 0;
  let work = 0;
  const copy = function* (to: number): Generator<void> {
    while (from < to) {
      const end = Math.min(to, from + KEYS_PER_STEP - work);
      out.set(wide.subarray(from, end), length);
      length += end - from;
      work += end - from;
      from = end;
      if (work >= KEYS_PER_STEP) {
        work = 0;
        yield;
      }
    }
  };
  while (i < plus.length || j < minus.length) {
    const add = i < plus.length && (j >= minus.length || (plus[i] as number) <= (minus[j] as number));
    const key = (add ? plus[i++] : minus[j++]) as number;
    yield* copy(lowerBound(wide, key, from));
    // A search and a key: counted as some copied keys, so a long run of changes yields too.
    work += 64;
    if (work >= KEYS_PER_STEP) {
      work = 0;
      yield;
    }
    if (add) out[length++] = key;
    else if (wide[from] === key) from++;
    else throw new MirrorDivergedError(`filter mirror lacks a key that a change removes (${key})`);
  }
  yield* copy(wide.length);
  return out;
}

/** {@link FilterMirror.keyChanges} for one class: `wide` holds that class's keys after the changes. */
function classKeyChanges(
  wide: Float64Array,
  added: readonly string[],
  removed: readonly string[],
  bits: number,
): { added: string[]; removed: string[] } {
  // Key sets are sets of heads (a tail only tells two members with one head apart, confirm.ts).
  const head = headBits(bits);
  const scale = 2 ** (head - KEY_HEAD_BITS);
  const narrow = (expression: string) => Math.floor(wideKey(expression) * scale);
  const addedPerKey = tally(added.map(narrow));
  const removedPerKey = tally(removed.map(narrow));
  // How many expressions hold the narrow key: the wide keys in its range.
  const span = 2 ** (KEY_HEAD_BITS - head);
  const heldNow = (key: number) => lowerBound(wide, (key + 1) * span) - lowerBound(wide, key * span);
  const heldBefore = (key: number) =>
    heldNow(key) - (addedPerKey.get(key) ?? 0) + (removedPerKey.get(key) ?? 0);
  return {
    added: added.filter((expression) => heldBefore(narrow(expression)) === 0),
    removed: removed.filter((expression) => heldNow(narrow(expression)) === 0),
  };
}

function tally(keys: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}
