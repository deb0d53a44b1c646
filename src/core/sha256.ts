/**
 * Synchronous SHA-256 (FIPS 180-4) in plain JavaScript. WebCrypto's digest is asynchronous, and a Merkle
 * proof needs dozens of chained 64-byte hashes: awaiting each one costs more than hashing it. One shared
 * state, no allocation per call except the 32-byte result.
 */

// Int32: every value stays a small integer for the engine, as the round arithmetic (| 0) wants it.
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const W = new Int32Array(64);
const H = new Int32Array(8);
/** The last one or two blocks, padded. */
const TAIL = new Uint8Array(128);

function compress(b: Uint8Array, o: number): void {
  for (let i = 0; i < 16; i++) {
    const j = o + 4 * i;
    W[i] =
      ((b[j] as number) << 24) |
      ((b[j + 1] as number) << 16) |
      ((b[j + 2] as number) << 8) |
      (b[j + 3] as number);
  }
  expand(W);
  rounds(W);
}

/** Words 16..63 of the message schedule of the block whose 16 words are in `w[0..15]`. */
function expand(w: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15] as number;
    const y = w[i - 2] as number;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
  }
}

/**
 * The compression of a block by its message schedule `w`, into `H`. Eight rounds per turn of the loop, each
 * naming the working variables one place further, so no round moves all eight of them (about 12 % faster
 * than one round per turn, and the plain feeds' set hash is one or two blocks per entry line).
 */
function rounds(w: Int32Array): void {
  let a = H[0] as number;
  let b = H[1] as number;
  let c = H[2] as number;
  let d = H[3] as number;
  let e = H[4] as number;
  let f = H[5] as number;
  let g = H[6] as number;
  let h = H[7] as number;
  let t: number;
  // Round r: t = h + S1(e) + Ch(e, f, g) + K[r] + W[r]; d += t; h = t + S0(a) + Maj(a, b, c); then the
  // names shift by one (h, a, b, ... g become a, b, c, ... h).
  // Inlined by hand: as functions, the engine did not inline them here (40 % slower).
  for (let i = 0; i < 64; i += 8) {
    t =
      (h +
        (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
        (g ^ (e & (f ^ g))) +
        (K[i] as number) +
        (w[i] as number)) |
      0;
    d = (d + t) | 0;
    h =
      (t +
        (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
        ((a & b) | (c & (a | b)))) |
      0;
    t =
      (g +
        (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) +
        (f ^ (d & (e ^ f))) +
        (K[i + 1] as number) +
        (w[i + 1] as number)) |
      0;
    c = (c + t) | 0;
    g =
      (t +
        (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) +
        ((h & a) | (b & (h | a)))) |
      0;
    t =
      (f +
        (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) +
        (e ^ (c & (d ^ e))) +
        (K[i + 2] as number) +
        (w[i + 2] as number)) |
      0;
    b = (b + t) | 0;
    f =
      (t +
        (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) +
        ((g & h) | (a & (g | h)))) |
      0;
    t =
      (e +
        (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) +
        (d ^ (b & (c ^ d))) +
        (K[i + 3] as number) +
        (w[i + 3] as number)) |
      0;
    a = (a + t) | 0;
    e =
      (t +
        (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) +
        ((f & g) | (h & (f | g)))) |
      0;
    t =
      (d +
        (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) +
        (c ^ (a & (b ^ c))) +
        (K[i + 4] as number) +
        (w[i + 4] as number)) |
      0;
    h = (h + t) | 0;
    d =
      (t +
        (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) +
        ((e & f) | (g & (e | f)))) |
      0;
    t =
      (c +
        (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) +
        (b ^ (h & (a ^ b))) +
        (K[i + 5] as number) +
        (w[i + 5] as number)) |
      0;
    g = (g + t) | 0;
    c =
      (t +
        (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) +
        ((d & e) | (f & (d | e)))) |
      0;
    t =
      (b +
        (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) +
        (a ^ (g & (h ^ a))) +
        (K[i + 6] as number) +
        (w[i + 6] as number)) |
      0;
    f = (f + t) | 0;
    b =
      (t +
        (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) +
        ((c & d) | (e & (c | d)))) |
      0;
    t =
      (a +
        (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) +
        (h ^ (f & (g ^ h))) +
        (K[i + 7] as number) +
        (w[i + 7] as number)) |
      0;
    e = (e + t) | 0;
    a =
      (t +
        (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) +
        ((b & c) | (d & (b | c)))) |
      0;
  }
  H[0] = ((H[0] as number) + a) | 0;
  H[1] = ((H[1] as number) + b) | 0;
  H[2] = ((H[2] as number) + c) | 0;
  H[3] = ((H[3] as number) + d) | 0;
  H[4] = ((H[4] as number) + e) | 0;
  H[5] = ((H[5] as number) + f) | 0;
  H[6] = ((H[6] as number) + g) | 0;
  H[7] = ((H[7] as number) + h) | 0;
}

/**
 * Pads the last `fill` message bytes already in `TAIL` for a message of `length` bytes and compresses
 * them, leaving the digest in `H`.
 */
function finish(fill: number, length: number): void {
  TAIL[fill++] = 0x80;
  if (fill > 56) {
    TAIL.fill(0, fill, 64);
    compress(TAIL, 0);
    fill = 0;
  }
  TAIL.fill(0, fill, 56);
  const bits = length * 8;
  const high = Math.floor(bits / 0x100000000);
  TAIL[56] = high >>> 24;
  TAIL[57] = high >>> 16;
  TAIL[58] = high >>> 8;
  TAIL[59] = high;
  TAIL[60] = bits >>> 24;
  TAIL[61] = bits >>> 16;
  TAIL[62] = bits >>> 8;
  TAIL[63] = bits;
  compress(TAIL, 0);
}

/**
 * SHA-256 of `prefix` (one byte, or -1 for none) followed by `parts`, without concatenating them first:
 * Merkle hashing is always a domain-separation byte and one or two byte strings.
 */
export function sha256Parts(prefix: number, ...parts: Uint8Array[]): Uint8Array {
  H.set(IV);
  let fill = 0;
  let length = 0;
  const push = (byte: number) => {
    TAIL[fill++] = byte;
    if (fill === 64) {
      compress(TAIL, 0);
      fill = 0;
    }
  };
  if (prefix >= 0) {
    push(prefix);
    length = 1;
  }
  for (const part of parts) {
    let i = 0;
    // Whole blocks straight from the input once the buffer is empty.
    while (i < part.length && fill !== 0) push(part[i++] as number);
    for (; i + 64 <= part.length; i += 64) compress(part, i);
    while (i < part.length) push(part[i++] as number);
    length += part.length;
  }
  finish(fill, length);
  return digestOut();
}

/** SHA-256 of `bytes`, synchronously. */
export const sha256Sync = (bytes: Uint8Array): Uint8Array => sha256Parts(-1, bytes);

function digestOut(): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const v = H[i] as number;
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = v >>> 16;
    out[4 * i + 2] = v >>> 8;
    out[4 * i + 3] = v;
  }
  return out;
}

const NODE = new Uint8Array(128);

/** SHA-256(0x01 || left || right) for two 32-byte hashes: the Merkle node hash, on a fixed 65-byte layout. */
export function sha256Node(left: Uint8Array, right: Uint8Array): Uint8Array {
  NODE[0] = 0x01;
  NODE.set(left, 1);
  NODE.set(right, 33);
  // 65 bytes: the second block is byte 64, 0x80, zeros and the bit length 520.
  NODE[65] = 0x80;
  NODE[126] = 0x02;
  NODE[127] = 0x08;
  H.set(IV);
  compress(NODE, 0);
  compress(NODE, 64);
  return digestOut();
}

/**
 * SHA-256 of many messages that share a prefix: the state after the prefix's whole 64-byte blocks is kept,
 * so each message costs only its own blocks. Messages are `prefix || suffix`; a suffix is written into
 * `suffix()` (at most 4 KiB) and hashed with `digest(length)`.
 */
export class PrefixedSha256 {
  private readonly state = new Int32Array(8);
  private readonly rest: Uint8Array;
  private readonly prefixLength: number;
  private readonly buf = new Uint8Array(4096 + 256);

  constructor(prefix: Uint8Array) {
    H.set(IV);
    const whole = prefix.length - (prefix.length % 64);
    for (let o = 0; o < whole; o += 64) compress(prefix, o);
    this.state.set(H);
    this.rest = prefix.slice(whole);
    this.prefixLength = prefix.length;
    this.buf.set(this.rest);
  }

  /** Where to write the suffix, from offset 0, before `digest`. */
  suffix(): Uint8Array {
    return this.buf.subarray(this.rest.length, this.rest.length + 4096);
  }

  /** The hash of prefix || the first `length` bytes written to `suffix()`. */
  digest(length: number): Uint8Array {
    if (length > 4096) throw new RangeError('suffix longer than 4 KiB');
    const buf = this.buf;
    const n = this.rest.length + length;
    H.set(this.state);
    let o = 0;
    for (; o + 64 <= n; o += 64) compress(buf, o);
    // Pad in place: the bytes after the message in `buf` are scratch.
    const total = this.prefixLength + length;
    const end = o + (n - o + 9 > 64 ? 128 : 64);
    buf.fill(0, n, end);
    buf[n] = 0x80;
    const bits = total * 8;
    const high = Math.floor(bits / 0x100000000);
    buf[end - 8] = high >>> 24;
    buf[end - 7] = high >>> 16;
    buf[end - 6] = high >>> 8;
    buf[end - 5] = high;
    buf[end - 4] = bits >>> 24;
    buf[end - 3] = bits >>> 16;
    buf[end - 2] = bits >>> 8;
    buf[end - 1] = bits;
    for (; o < end; o += 64) compress(buf, o);
    return digestOut();
  }
}

/**
 * SHA-256 of `bytes[start, end)` as eight big-endian words in `out`: the plain feeds' set hash adds and
 * subtracts digests as 256-bit numbers, one per entry line, millions of them when an agent loads a
 * snapshot. So the message is read padded straight from `bytes`, a word at a time: no copy, no builtin
 * call, and a branch per block rather than per byte.
 */
export function sha256Words(bytes: Uint8Array, start: number, end: number, out: Uint32Array): void {
  for (let i = 0; i < 8; i++) H[i] = IV[i] as number;
  let o = start;
  for (; o + 64 <= end; o += 64) compress(bytes, o);
  const rest = end - o;
  const whole = rest >>> 2;
  for (let i = 0; i < whole; i++) W[i] = wordAt(bytes, o + 4 * i);
  W[whole] = lastWord(bytes, o + 4 * whole, rest & 3);
  for (let i = whole + 1; i < 16; i++) W[i] = 0;
  const length = end - start;
  // The 0x80 byte and the 8-byte length take 9 bytes: past 55 they spill into a block of padding alone.
  if (rest > 55) {
    expand(W);
    rounds(W);
    rounds(paddingSchedule(length));
  } else {
    W[14] = Math.floor(length / 0x20000000);
    W[15] = (length * 8) | 0;
    expand(W);
    rounds(W);
  }
  for (let i = 0; i < 8; i++) out[i] = (H[i] as number) >>> 0;
}

/** The big-endian word at `bytes[j...]`. */
const wordAt = (bytes: Uint8Array, j: number): number =>
  ((bytes[j] as number) << 24) |
  ((bytes[j + 1] as number) << 16) |
  ((bytes[j + 2] as number) << 8) |
  (bytes[j + 3] as number);

/** The word of the message's last `count` (0-3) bytes at `bytes[j...]` followed by the 0x80 byte. */
function lastWord(bytes: Uint8Array, j: number, count: number): number {
  let word = 0;
  for (let q = 0; q < count; q++) word |= (bytes[j + q] as number) << (24 - 8 * q);
  return word | (0x80 << (24 - 8 * count));
}

/** Schedules of blocks of padding alone, by message length (below PADDED_LENGTHS). */
const paddingSchedules: (Int32Array | undefined)[] = [];
/** Entry lines are shorter; a longer message computes its schedule each time. */
const PADDED_LENGTHS = 4096;

/**
 * The message schedule of a last block that holds only padding (zeros, then the bit length): it depends
 * on the message length alone, so the many entry lines of 56-63 bytes (mod 64) share it.
 */
function paddingSchedule(length: number): Int32Array {
  let w = paddingSchedules[length];
  if (w === undefined) {
    w = new Int32Array(64);
    w[14] = Math.floor(length / 0x20000000);
    w[15] = (length * 8) | 0;
    expand(w);
    if (length < PADDED_LENGTHS) paddingSchedules[length] = w;
  }
  return w;
}
