/**
 * Confirmation keys of the `filter` feed: the top `bits` bits of an expression hash's last 64 bits
 * (words 2 and 3), a whole number below 2^53 so it is exact in a double. A Bloom hit is confirmed by
 * finding its key in the sorted key set of its class; the key bits are independent of the Bloom bits.
 *
 * Two classes of keys, each with its own width. A root expression (`host/`: path `/`, no query) is what a
 * `domain` entry is; a `url` entry never is one (a URL whose canonical form is the bare host is a domain
 * entry). `lookupExpressions` gives a URL one root expression per host suffix (5 for every host of at most five
 * labels below its registrable domain, which is nearly every real host) and at most 25 others (5 host suffixes x
 * 5 path variants besides `/`), and a hit is confirmed only in its own class. The bound below counts 5 root
 * expressions; a deeper host has one more per label, so its bound grows by that factor (x25 at 127 labels).
 *
 * Widths. A URL is falsely blocked when one of its expressions passes the Bloom filter (rate p) and its key
 * equals a key of its class: with n_r root keys of b_r bits and n_p path keys of b_p bits, the union bound
 *
 *   5 p n_r / 2^b_r + 25 p n_p / 2^b_p < T = 1e-12.
 *
 * Rice coding costs about b - log2(n) + 1.5 bits a key, so one more bit of width costs one bit per key of
 * its class: minimize n_r b_r + n_p b_p under the bound. For real widths (Lagrange) the optimum gives each
 * term a share of T proportional to its class's count, 5 p n_r / 2^b_r = T n_r / n with n = n_r + n_p, so
 * b_r* = log2(5 p n / T) and b_p* = log2(25 p n / T): the one-width formula of a single class with that
 * class's expressions per URL. c = floor(b*) + 1, the fewest bits whose term is strictly below its share,
 * always meets the bound together; the rounding slack of one class can pay for the other being one bit
 * narrower, so of the pairs with widths in {c - 1, c} the one that meets the bound with the fewest key
 * bits is taken (ties to the wider). Widths stay within a bit of b*, which depends on n and not on the
 * mix: each term stays below twice its share when deltas move entries between classes, and an empty class
 * keeps the width its entries would need. 1M domain entries at p = 1e-6 get 43-bit root keys (the single
 * 30-expression width would be 45).
 */

/** Fewest key bits: below this, small feeds would collide for no gain in size. */
export const MIN_CONFIRMATION_BITS = 24;
/** Most key bits: keys stay exact integers in a double. */
export const MAX_CONFIRMATION_BITS = 53;
/** Root expressions the bound counts per URL: one per host suffix of a host within Safe Browsing's window. */
export const ROOT_EXPRESSIONS_PER_URL = 5;
/** Most other expressions it gives one URL: 5 host suffixes x 5 path variants besides `/`. */
export const PATH_EXPRESSIONS_PER_URL = 25;
/** The bound on the chance that a URL that is not listed is blocked. */
export const FALSE_BLOCK_TARGET = 1e-12;

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
 * The union bound on the chance that a URL is falsely blocked: a URL looks up at most
 * {@link ROOT_EXPRESSIONS_PER_URL} root and {@link PATH_EXPRESSIONS_PER_URL} other expressions, each passes
 * the Bloom filter with `bloomFpr` and then matches one of its class's `counts` keys with chance count / 2^bits.
 */
export function falseBlockChance(counts: PerClass<number>, bloomFpr: number, bits: KeyWidths): number {
  return (
    (ROOT_EXPRESSIONS_PER_URL * bloomFpr * counts.root) / 2 ** bits.root +
    (PATH_EXPRESSIONS_PER_URL * bloomFpr * counts.path) / 2 ** bits.path
  );
}

/**
 * Key widths for `counts` distinct keys per class that keep {@link falseBlockChance} below
 * {@link FALSE_BLOCK_TARGET} with the fewest key bits, as derived above; never narrower than `minimum` (a feed
 * keeps its widths from snapshot to snapshot) and clamped to [{@link MIN_CONFIRMATION_BITS},
 * {@link MAX_CONFIRMATION_BITS}] (at 53 bits a huge feed may miss the target).
 */
export function confirmationWidths(
  counts: PerClass<number>,
  bloomFpr: number,
  minimum?: KeyWidths,
): KeyWidths {
  const total = Math.max(counts.root + counts.path, 1);
  const floors = {
    root: Math.max(MIN_CONFIRMATION_BITS, minimum?.root ?? 0),
    path: Math.max(MIN_CONFIRMATION_BITS, minimum?.path ?? 0),
  };
  // The fewest bits above b* = log2(perUrl p n / T), i.e. whose term is strictly below its share.
  const above = (perUrl: number, floor: number) => {
    const scale = (perUrl * bloomFpr * total) / FALSE_BLOCK_TARGET;
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
    if (cost < bestCost && falseBlockChance(counts, bloomFpr, candidate) < FALSE_BLOCK_TARGET) {
      best = candidate;
      bestCost = cost;
    }
  }
  return best;
}

/** Whether `bits` is a key width this format accepts. */
export const isConfirmationBits = (bits: number): boolean =>
  Number.isInteger(bits) && bits >= MIN_CONFIRMATION_BITS && bits <= MAX_CONFIRMATION_BITS;

/** Whether both widths of a pair are key widths this format accepts. */
export const isKeyWidths = (bits: KeyWidths): boolean =>
  isConfirmationBits(bits.root) && isConfirmationBits(bits.path);

/** Whether two width pairs are the same. */
export const sameKeyWidths = (a: KeyWidths, b: KeyWidths): boolean => a.root === b.root && a.path === b.path;

/** A width pair as text, `root,path` (e.g. `43,45`): the `bits` query of a delta request. */
export const keyWidthsText = (bits: KeyWidths): string => `${bits.root},${bits.path}`;

/** The confirmation key of a 128-bit expression hash: the top `bits` bits of h[2]:h[3]. */
export function confirmationKey(hash: Uint32Array, bits: number): number {
  const high = hash[2] as number;
  if (bits <= 32) return high >>> (32 - bits);
  return high * 2 ** (bits - 32) + ((hash[3] as number) >>> (64 - bits));
}
