/**
 * Confirmation keys of the `filter` feed and the false-block bound they keep. The key of an expression at width
 * W (24..64) is the top W bits of its hash's last 64 bits (words 2 and 3), held as a head, its top min(W, 53)
 * bits (a whole number, exact in a double), and a tail, the W - 53 bits after the head when W > 53. Its
 * extension is the top {@link EXTENSION_BITS} bits of word 0. The Bloom filter is not over the expressions but
 * over (class, key, extension) (bloom.ts), so a consumer can put a key that a delta adds into its own Bloom
 * filter: the delta carries the key and its extension, and a key added by a delta is checked exactly as a key of
 * the snapshot is (docs/DECISIONS.md, "filter feed"). Key sets are sets of heads: two members whose heads are
 * equal and tails differ keep one entry whose tail matches any tail.
 *
 * Two classes of keys, each with its own width. A root expression (`host/`: path `/`, no query) is what a
 * `domain` entry is; a `url` entry never is one. `lookupExpressions` gives a URL one root expression per host
 * suffix (5 for every host of at most five labels below its registrable domain) and at most 25 others (5 host
 * suffixes x 5 path variants besides `/`), and a hit is confirmed only in its own class. The bound counts 5 root
 * expressions; a deeper host has one more per label, so its bound grows by that factor.
 *
 * The bound. A URL is falsely blocked when one of its expressions has the key of a member of its class (chance
 * n_c / 2^W_c) and passes the Bloom filter. Given that key collision the Bloom filter still stops the expression
 * unless the extensions are equal too (2^-s) or the other positions are all set (the filter's rate f), so with
 * n_r root keys of W_r bits and n_p path keys of W_p bits the union bound is
 *
 *   (5 n_r / 2^W_r + 25 n_p / 2^W_p) (f + 2^-s) < T = 1e-12.
 *
 * It holds at every version, not only at the snapshot: a snapshot is sized for {@link insertCapacity} keys, the
 * consumer recomputes f from the keys it has put in its filter and refuses a delta that would break the bound
 * (`resync_required`: fetch the newer snapshot).
 *
 * Sizes. Rice coding costs about W - log2(n) + 1.5 bits a key and the Bloom filter 1.44 log2(1/f) bits an entry,
 * so the snapshot takes about 0.44 log2(1/f) + log2(5/T) + 1.5 bits an entry (docs/DECISIONS.md has the choice
 * of f). Widths come from the configured rate f0: W* = log2(perUrl (f0 + 2^-s) n / T) per class with the class's
 * share of T (Lagrange: one bit of width costs one bit per key of its class), rounded up; the filter then gets
 * whatever rate the rounded widths leave ({@link bloomRateFor}), between f0 and 2 f0.
 */
/** Fewest key bits: below this, small feeds would collide for no gain in size. */
export const MIN_CONFIRMATION_BITS = 24;
/** Most key bits: all 64 bits of hash words 2 and 3. */
export const MAX_CONFIRMATION_BITS = 64;
/** Most bits of a key's head: a whole number exact in a double. */
export const KEY_HEAD_BITS = 53;
/** Bits of a key's extension (s): what the Bloom filter adds to a key, and what a delta carries beside it. */
export const EXTENSION_BITS = 8;
/** Root expressions the bound counts per URL: one per host suffix of a host within Safe Browsing's window. */
export const ROOT_EXPRESSIONS_PER_URL = 5;
/** Most other expressions it gives one URL: 5 host suffixes x 5 path variants besides `/`. */
export const PATH_EXPRESSIONS_PER_URL = 25;
/** The bound on the chance that a URL that is not listed is blocked. */
export const FALSE_BLOCK_TARGET = 1e-12;
/** The configured Bloom rate f0 by default: the size and speed trade-off of docs/DECISIONS.md. */
export const DEFAULT_BLOOM_FPR = 1 / 32;
/** Least room for keys that deltas add before the next snapshot (the hub snapshots after 10 000 changes by default). */
const MIN_INSERT_HEADROOM = 10_000;
/** A Bloom filter that passes more than half of all elements is not worth its probes. */
const MAX_BLOOM_FPR = 0.5;

/** The two key classes: `root` for expressions `host/`, `path` for every other expression. */
export type KeyClass = 'root' | 'path';

/** One value per key class. */
export interface PerClass<T> {
  readonly root: T;
  readonly path: T;
}

/** The key width of each class: a state, a snapshot and the deltas applied to it share one pair. */
export type KeyWidths = PerClass<number>;

/** Whether an expression is a root expression (`host/`): its first `/` ends it. Allocates nothing. */
export function isRootExpression(expression: string): boolean {
  const slash = expression.indexOf('/');
  return slash >= 0 && slash === expression.length - 1;
}

/**
 * How many (key, extension) pairs a snapshot of `count` keys makes room for in its Bloom filter: its own and
 * those deltas add before the next snapshot (1/64 more, at least {@link MIN_INSERT_HEADROOM}).
 */
export const insertCapacity = (count: number): number =>
  count + Math.max(Math.ceil(count / 64), MIN_INSERT_HEADROOM);

/** Chance that one URL's expressions hit a key of their class: 5 n_r / 2^b_r + 25 n_p / 2^b_p. */
export const keyMatchChance = (counts: PerClass<number>, bits: KeyWidths): number =>
  (ROOT_EXPRESSIONS_PER_URL * counts.root) / 2 ** bits.root +
  (PATH_EXPRESSIONS_PER_URL * counts.path) / 2 ** bits.path;

/**
 * The union bound on the chance that a URL that is not listed is blocked, for `counts` keys per class at
 * widths `bits` behind a Bloom filter of rate `bloomFpr` (derived above).
 */
export const falseBlockChance = (counts: PerClass<number>, bloomFpr: number, bits: KeyWidths): number =>
  keyMatchChance(counts, bits) * (bloomFpr + 2 ** -EXTENSION_BITS);

/** `counts` grown in proportion to the {@link insertCapacity} of their sum (all root when both are 0). */
function atCapacity(counts: PerClass<number>): PerClass<number> {
  const total = counts.root + counts.path;
  if (total === 0) return { root: insertCapacity(0), path: 0 };
  const scale = insertCapacity(total) / total;
  return { root: counts.root * scale, path: counts.path * scale };
}

/**
 * Key widths for `counts` distinct keys per class that keep {@link falseBlockChance} at the configured Bloom rate
 * `bloomFpr` below {@link FALSE_BLOCK_TARGET} at the snapshot's insert capacity, with the fewest key bits, as
 * derived above; never narrower than `minimum` (a feed keeps its widths from snapshot to snapshot) and clamped to
 * [{@link MIN_CONFIRMATION_BITS}, {@link MAX_CONFIRMATION_BITS}] (at 64 bits the Bloom filter takes the rest).
 */
export function confirmationWidths(
  counts: PerClass<number>,
  bloomFpr: number,
  minimum?: KeyWidths,
): KeyWidths {
  const grown = atCapacity(counts);
  const total = grown.root + grown.path;
  const rate = bloomFpr + 2 ** -EXTENSION_BITS;
  const floors = {
    root: Math.max(MIN_CONFIRMATION_BITS, minimum?.root ?? 0),
    path: Math.max(MIN_CONFIRMATION_BITS, minimum?.path ?? 0),
  };
  // The fewest bits above b* = log2(perUrl p n / T), i.e. whose term is strictly below its share.
  const above = (perUrl: number, floor: number) => {
    const scale = (perUrl * rate * total) / FALSE_BLOCK_TARGET;
    let bits = MIN_CONFIRMATION_BITS;
    while (bits < MAX_CONFIRMATION_BITS && scale / 2 ** bits >= 1) bits++;
    return Math.max(bits, floor);
  };
  const root = above(ROOT_EXPRESSIONS_PER_URL, floors.root);
  const path = above(PATH_EXPRESSIONS_PER_URL, floors.path);
  let best: KeyWidths = { root, path };
  let bestCost = counts.root * root + counts.path * path;
  // Both one bit narrower never fits: at floor(b*) each term is at least its share.
  for (const candidate of [
    { root: root - 1, path },
    { root, path: path - 1 },
  ]) {
    if (candidate.root < floors.root || candidate.path < floors.path) continue;
    const cost = counts.root * candidate.root + counts.path * candidate.path;
    if (cost < bestCost && falseBlockChance(grown, bloomFpr, candidate) < FALSE_BLOCK_TARGET) {
      best = candidate;
      bestCost = cost;
    }
  }
  return best;
}

/**
 * The Bloom rate a snapshot of `counts` keys at widths `bits` is built for: the largest that keeps the bound at
 * its insert capacity, so the rounding of the widths shrinks the filter instead of being wasted; `configured`
 * when no rate can keep it (widths forced narrower than the bound needs), and at most 1/2.
 */
export function bloomRateFor(counts: PerClass<number>, bits: KeyWidths, configured: number): number {
  const rate = FALSE_BLOCK_TARGET / keyMatchChance(atCapacity(counts), bits) - 2 ** -EXTENSION_BITS;
  return rate > 0 ? Math.min(rate, MAX_BLOOM_FPR) : configured;
}

/** Whether `bits` is a key width this format accepts. */
export const isConfirmationBits = (bits: number): boolean =>
  Number.isInteger(bits) && bits >= MIN_CONFIRMATION_BITS && bits <= MAX_CONFIRMATION_BITS;

/** Whether both widths of a pair are key widths this format accepts. */
export const isKeyWidths = (bits: KeyWidths): boolean =>
  isConfirmationBits(bits.root) && isConfirmationBits(bits.path);

/** Whether two width pairs are the same. */
export const sameKeyWidths = (a: KeyWidths, b: KeyWidths): boolean => a.root === b.root && a.path === b.path;

/** Bits of the head of a key of width `bits`. */
export const headBits = (bits: number): number => Math.min(bits, KEY_HEAD_BITS);

/** Bits of the tail of a key of width `bits`. */
export const tailBits = (bits: number): number => Math.max(0, bits - KEY_HEAD_BITS);

/** A width pair as text, `root,path` (e.g. `43,45`): the `bits` query of a delta request. */
export const keyWidthsText = (bits: KeyWidths): string => `${bits.root},${bits.path}`;

/** The head of the confirmation key of width `bits` of a 128-bit expression hash: the top min(bits, 53) bits of h[2]:h[3]. */
export function confirmationKey(hash: Uint32Array, bits: number): number {
  const high = hash[2] as number;
  if (bits <= 32) return high >>> (32 - bits);
  const head = Math.min(bits, KEY_HEAD_BITS);
  return high * 2 ** (head - 32) + ((hash[3] as number) >>> (64 - head));
}

/** The tail of the confirmation key of width `bits` (0 when it has none): the bits after the head. */
export function keyTail(hash: Uint32Array, bits: number): number {
  const tail = bits - KEY_HEAD_BITS;
  return tail > 0 ? ((hash[3] as number) >>> (64 - bits)) & ((1 << tail) - 1) : 0;
}

/** The extension of a 128-bit expression hash: the top {@link EXTENSION_BITS} bits of h[0]. */
export const keyExtension = (hash: Uint32Array): number => (hash[0] as number) >>> (32 - EXTENSION_BITS);
