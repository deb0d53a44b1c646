/**
 * The 128-bit hash of an expression for the `filter` feed: MurmurHash3 x86_128 over its ASCII bytes.
 * Plain JS on 32-bit integers (no TextEncoder, no BigInt, no WebAssembly), so it allocates nothing and
 * runs the same in Node and workerd. Words 0-1 drive the Bloom filter, words 2-3 the confirmation key.
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

/** An expression holds a code unit above 0x7f: canonical expressions are percent-escaped ASCII. */
export class NonAsciiExpressionError extends Error {
  override readonly name = 'NonAsciiExpressionError';
  constructor(readonly expression: string) {
    super(`expression is not ASCII: ${JSON.stringify(expression)}`);
  }
}

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Little-endian 32-bit word of the `n` (1 to 4) code units starting at `i`, zero-padded; -1 when one of
 * them is above 0x7f. An ASCII word never has bit 31 set, so -1 cannot be mistaken for data.
 */
function word(s: string, i: number, n: number): number {
  let k = 0;
  let seen = 0;
  for (let j = n - 1; j >= 0; j--) {
    const c = s.charCodeAt(i + j);
    seen |= c;
    k = (k << 8) | c;
  }
  return seen > 0x7f ? -1 : k;
}

/**
 * MurmurHash3_x86_128 of the ASCII string `text` with `seed`, written to `out[0..3]` as the reference
 * implementation's h1..h4. Throws {@link NonAsciiExpressionError} for a code unit above 0x7f.
 */
export function murmurHash3x86x128(text: string, seed: number, out: Uint32Array): void {
  murmurHash3x86x128Range(text, 0, text.length, seed, out);
}

/**
 * MurmurHash3_x86_128 of ranges of a string that start at one place. The hash mixes 16-byte blocks from the
 * start and then the tail, so ranges `text[start, end)` with growing ends share the blocks mixed for the shorter
 * ones: a URL's expressions on one host suffix (root, directories, path, path and query) cost about one pass
 * over the longest. The state is kept between calls and reused when text, start and seed are the same.
 */
class RangeHasher {
  private text = '';
  private start = 0;
  private seed = 0;
  /** Where the blocks mixed so far end. */
  private mixed = 0;
  private h1 = 0;
  private h2 = 0;
  private h3 = 0;
  private h4 = 0;
  /** OR of every mixed block's code units: one non-ASCII test per hash instead of one per character. */
  private units = 0;

  hash(text: string, start: number, end: number, seed: number, out: Uint32Array): void {
    if (start !== this.start || end < this.mixed || seed !== this.seed || text !== this.text) {
      this.text = text;
      this.start = start;
      this.seed = seed;
      this.mixed = start;
      this.h1 = this.h2 = this.h3 = this.h4 = seed | 0;
      this.units = 0;
    }
    let h1 = this.h1;
    let h2 = this.h2;
    let h3 = this.h3;
    let h4 = this.h4;
    let units = this.units;
    const blocks = end - ((end - start) & 15);
    let i = this.mixed;
    for (; i < blocks; i += 16) {
      // Whole blocks read their 16 code units inline: the hot loop of every lookup.
      const a0 = text.charCodeAt(i);
      const a1 = text.charCodeAt(i + 1);
      const a2 = text.charCodeAt(i + 2);
      const a3 = text.charCodeAt(i + 3);
      const b0 = text.charCodeAt(i + 4);
      const b1 = text.charCodeAt(i + 5);
      const b2 = text.charCodeAt(i + 6);
      const b3 = text.charCodeAt(i + 7);
      const c0 = text.charCodeAt(i + 8);
      const c1 = text.charCodeAt(i + 9);
      const c2 = text.charCodeAt(i + 10);
      const c3 = text.charCodeAt(i + 11);
      const d0 = text.charCodeAt(i + 12);
      const d1 = text.charCodeAt(i + 13);
      const d2 = text.charCodeAt(i + 14);
      const d3 = text.charCodeAt(i + 15);
      units |= a0 | a1 | a2 | a3 | b0 | b1 | b2 | b3 | c0 | c1 | c2 | c3 | d0 | d1 | d2 | d3;
      let k1 = a0 | (a1 << 8) | (a2 << 16) | (a3 << 24);
      let k2 = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
      let k3 = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
      let k4 = d0 | (d1 << 8) | (d2 << 16) | (d3 << 24);

      k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
      h1 ^= k1;
      h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
      k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
      h2 ^= k2;
      h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
      k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
      h3 ^= k3;
      h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
      k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
      h4 ^= k4;
      h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
    }
    this.mixed = i;
    this.h1 = h1;
    this.h2 = h2;
    this.h3 = h3;
    this.h4 = h4;
    this.units = units;

    const len = end - start;
    let seen = 0;
    const rest = end - i;
    if (rest > 12) {
      const k4 = word(text, i + 12, rest - 12);
      seen |= k4;
      h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    }
    if (rest > 8) {
      const k3 = word(text, i + 8, Math.min(rest - 8, 4));
      seen |= k3;
      h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    }
    if (rest > 4) {
      const k2 = word(text, i + 4, Math.min(rest - 4, 4));
      seen |= k2;
      h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    }
    if (rest > 0) {
      const k1 = word(text, i, Math.min(rest, 4));
      seen |= k1;
      h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    }
    if (units > 0x7f || seen < 0) throw new NonAsciiExpressionError(text.slice(start, end));

    h1 ^= len;
    h2 ^= len;
    h3 ^= len;
    h4 ^= len;
    h1 = (h1 + h2 + h3 + h4) | 0;
    h2 = (h2 + h1) | 0;
    h3 = (h3 + h1) | 0;
    h4 = (h4 + h1) | 0;
    h1 = fmix(h1);
    h2 = fmix(h2);
    h3 = fmix(h3);
    h4 = fmix(h4);
    h1 = (h1 + h2 + h3 + h4) | 0;
    h2 = (h2 + h1) | 0;
    h3 = (h3 + h1) | 0;
    h4 = (h4 + h1) | 0;
    out[0] = h1;
    out[1] = h2;
    out[2] = h3;
    out[3] = h4;
  }
}

const rangeHasher = new RangeHasher();

/**
 * {@link murmurHash3x86x128} of `text.slice(start, end)` without the slice: a URL's lookup expressions are
 * ranges of one string, hashed where they lie.
 */
export function murmurHash3x86x128Range(
  text: string,
  start: number,
  end: number,
  seed: number,
  out: Uint32Array,
): void {
  rangeHasher.hash(text, start, end, seed, out);
}

/**
 * The 128-bit hash of an expression (MurmurHash3 x86_128, seed 0) written to `out` (length 4), so a caller
 * reuses one array and nothing is allocated per call. Throws {@link NonAsciiExpressionError} when the
 * expression holds a code unit above 0x7f.
 */
export function hashExpression(expression: string, out: Uint32Array): void {
  murmurHash3x86x128Range(expression, 0, expression.length, 0, out);
}

/** {@link hashExpression} of the expression `text.slice(start, end)`, without building it. */
export function hashExpressionRange(text: string, start: number, end: number, out: Uint32Array): void {
  murmurHash3x86x128Range(text, start, end, 0, out);
}
