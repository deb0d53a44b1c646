/**
 * Payloads of the hashed `filter` feed (the bytes a signed artifact carries). Integers are big-endian.
 * Confirmation keys come in two classes, root (expressions `host/`) and path (all others), each with its own
 * width W (see confirm.ts): a key is a head of min(W, 53) bits and a tail of t = W - 53 bits (none when W <= 53).
 * Head sets are Rice-coded (see rice.ts); tails and extensions are packed bit fields, least significant bit
 * first, zero-padded to a byte. The Bloom filter holds (class, key, extension) elements (bloom.ts), so deltas
 * carry each added key's tail and extension.
 *
 * Snapshot (format 3): the whole state.
 *
 *   offset    size  field
 *   0         4     magic "TDFS"
 *   4         1     format version (3)
 *   5         1     root key width (24..64)
 *   6         1     path key width (24..64)
 *   7         1     k: Bloom hash count
 *   8         1     s: extension bits (8)
 *   9         3     reserved, 0
 *   12        4     N: elements put in the Bloom filter (distinct expressions)
 *   16        4     C: insert capacity, elements the filter takes before the bound needs a new snapshot
 *   20        4     m: Bloom filter size in bits
 *   24        4     B = ceil(m / 8): byte length of the bit array
 *   28        4     R: byte length of the root heads
 *   32        4     W: byte length of the root wildcards
 *   36        4     P: byte length of the path heads
 *   40        B     Bloom bit array, raw: bit i is byte i >> 3, mask 1 << (i & 7)
 *   ...       R     the sorted root heads, Rice-coded
 *   ...       *     their tails, t bits each (ceil(count t / 8) bytes)
 *   ...       W     indexes of the root keys whose tail matches any tail (their members' tails differ), Rice-coded (32 bits)
 *   ...       P     the sorted path heads, Rice-coded
 *   ...       *     their tails
 *   ...       ...   indexes of the path keys whose tail matches any tail, Rice-coded, to the end
 *
 * Delta (format 3): net changes between two versions. A removed key is named by its index in the sorted key set
 * of its class before the delta (about log2(n / removed) + 1.5 bits Rice-coded, against some 40 for a head).
 *
 *   offset  size  field
 *   0       4     magic "TDFD"
 *   4       1     format version (3)
 *   5       1     root key width; must equal the state's
 *   6       1     path key width; must equal the state's
 *   7       1     s: extension bits (8)
 *   8       4     A: byte length of the added root heads
 *   12      4     D: byte length of the removed root indexes
 *   16      4     P: byte length of the added path heads
 *   20      A     added root heads, Rice-coded
 *   ...     *     for each, its tail (t bits) then its extension (s bits): ceil(count (t + s) / 8) bytes
 *   ...     D     indexes of the removed root keys in the root key set before the delta, Rice-coded (32 bits)
 *   ...     P     added path heads, Rice-coded
 *   ...     *     their tails and extensions
 *   ...     ...   indexes of the removed path keys, Rice-coded (32 bits), to the end
 *
 * Expressions hash with MurmurHash3 x86_128 (hash.ts); Bloom indexes are described in bloom.ts and keys in
 * confirm.ts. Byte-identical output for the same set whatever the input order. Changing a byte of this
 * layout needs a new format version.
 */
import { byteLength, KeyBloom } from './bloom.ts';
import {
  bloomRateFor,
  confirmationWidths,
  EXTENSION_BITS,
  headBits,
  insertCapacity,
  isKeyWidths,
  isRootExpression,
  KEY_HEAD_BITS,
  type KeyWidths,
  MAX_CONFIRMATION_BITS,
  MIN_CONFIRMATION_BITS,
  type PerClass,
  tailBits,
} from './confirm.ts';
import {
  type ClassKeys,
  difference,
  type ExtendedKeys,
  extendedKeysOf,
  keyCount,
  keySetChecksum,
  keysOf,
  removedRanks,
  TAIL_ANY,
  type TailedKeys,
} from './filter-keys.ts';
import { hashExpression } from './hash.ts';
import { RiceCursor, riceDecode, riceEncode } from './rice.ts';
import { fail, ok, type Result } from './types.ts';

export const FILTER_FORMAT_VERSION = 3;
const SNAPSHOT_MAGIC = [0x54, 0x44, 0x46, 0x53]; // "TDFS"
const DELTA_MAGIC = [0x54, 0x44, 0x46, 0x44]; // "TDFD"
const SNAPSHOT_HEADER_BYTES = 40;
const DELTA_HEADER_BYTES = 20;
/** Indexes (removed keys, wildcard tails) are below 2^32. */
const INDEX_BITS = 32;
const WIDTHS = `${MIN_CONFIRMATION_BITS}..${MAX_CONFIRMATION_BITS}`;
/** Which 32-bit half of a BigUint64Array element a Uint32Array view sees first. */
const LOW_WORD = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1 ? 0 : 1;

/** An encoded snapshot and what its manifest announces. */
export interface FilterSnapshot {
  payload: Uint8Array;
  /** Distinct key heads of both classes (members; two expressions sharing a head count once). */
  entryCount: number;
  bits: KeyWidths;
  /** The state checksum of `keySetChecksum` (filter-keys.ts). */
  checksum: string;
}

/** A decoded snapshot payload. */
export interface DecodedFilterSnapshot {
  bits: KeyWidths;
  /** Elements put in the Bloom filter. */
  inserted: number;
  /** Elements the Bloom filter takes before the bound needs a new snapshot. */
  capacity: number;
  bloom: KeyBloom;
  keys: PerClass<TailedKeys>;
}

/** One key class of a snapshot payload as its coded bytes (the heads' Rice header checked, nothing decoded). */
export interface CodedClass {
  /** The Rice-coded sorted heads (rice.ts). */
  heads: Uint8Array;
  /** Key count, from the heads' header. */
  count: number;
  /** Their tails, `tailBits` each, packed least significant bit first. */
  tails: Uint8Array;
  /** Sorted indexes of the keys whose tail matches any tail (decoded: there are few). */
  wildcards: Float64Array;
}

/** A snapshot payload read in place: the header, a view of its Bloom filter and each class's coded keys. */
export interface FilterSnapshotSections {
  bits: KeyWidths;
  /** Elements put in the Bloom filter. */
  inserted: number;
  /** Elements the Bloom filter takes before the bound needs a new snapshot. */
  capacity: number;
  /** A view of the payload's bit array, not a copy. */
  bloom: KeyBloom;
  classes: PerClass<CodedClass>;
}

/** A decoded delta payload: per class, the added keys with their tails and extensions, the removed keys' indexes. */
export interface FilterDelta {
  bits: KeyWidths;
  added: PerClass<ExtendedKeys>;
  removedRanks: PerClass<Float64Array>;
}

/** How a snapshot is built. */
export interface FilterSnapshotOptions {
  /** Configured Bloom false-positive rate f0, in (0, 1): it sets the key widths (confirm.ts). */
  fpr: number;
  /**
   * Key widths; default {@link confirmationWidths} of the key counts and `fpr`. A feed keeps its widths from
   * snapshot to snapshot, so that deltas published in between still apply.
   */
  bits?: KeyWidths;
}

/** One class of expressions as sorted 64-bit hash words 2:3, with the heads and tails they give. */
interface ClassBuild {
  heads: Float64Array;
  tails: Uint16Array;
  /** Distinct words 2:3: the expressions the Bloom filter gets. */
  distinct: number;
}

/** Expressions hashed per {@link ExpressionHashes} chunk. */
const HASH_CHUNK = 1 << 16;

/** One chunk of {@link ExpressionHashes}: words 0, 2, 3 of each hash, and 1 for a path expression. */
export interface HashChunk {
  words: Uint32Array;
  isPath: Uint8Array;
}

/**
 * What a filter snapshot needs of each expression, gathered one expression at a time: words 0, 2 and 3 of
 * its hash and its key class (13 bytes, where the expression itself takes tens), in fixed-size chunks so
 * that a list of unknown length is never copied to grow. {@link encodeFilterSnapshotOfHashes} spends it.
 */
export class ExpressionHashes {
  #chunks: HashChunk[] = [];
  /** Expressions in the last chunk. */
  #filled = HASH_CHUNK;
  readonly #counts = { root: 0, path: 0 };
  readonly #hash = new Uint32Array(4);
  #sorted: PerClass<BigUint64Array> | null = null;
  #released = false;

  /** Throws NonAsciiExpressionError for a non-ASCII expression. */
  add(expression: string): void {
    this.#check();
    hashExpression(expression, this.#hash);
    this.#sorted = null;
    if (this.#filled === HASH_CHUNK) {
      this.#chunks.push({ words: new Uint32Array(3 * HASH_CHUNK), isPath: new Uint8Array(HASH_CHUNK) });
      this.#filled = 0;
    }
    const chunk = this.#chunks.at(-1) as HashChunk;
    const at = this.#filled++;
    chunk.words[3 * at] = this.#hash[0] as number;
    chunk.words[3 * at + 1] = this.#hash[2] as number;
    chunk.words[3 * at + 2] = this.#hash[3] as number;
    if (isRootExpression(expression)) this.#counts.root++;
    else {
      chunk.isPath[at] = 1;
      this.#counts.path++;
    }
  }

  /** Expressions added per key class. */
  get counts(): PerClass<number> {
    return { ...this.#counts };
  }

  /** The chunks, the last one cut to what it holds. */
  *chunks(): Generator<HashChunk> {
    this.#check();
    for (const [i, chunk] of this.#chunks.entries()) {
      if (i < this.#chunks.length - 1) yield chunk;
      else
        yield {
          words: chunk.words.subarray(0, 3 * this.#filled),
          isPath: chunk.isPath.subarray(0, this.#filled),
        };
    }
  }

  /**
   * Words 2:3 of every hash as 64-bit integers, per key class, sorted (repeats kept): the order of the keys.
   * Each array has its class's length, no more; computed once.
   */
  sorted(): PerClass<BigUint64Array> {
    this.#check();
    if (this.#sorted) return this.#sorted;
    const wide = { root: new BigUint64Array(this.#counts.root), path: new BigUint64Array(this.#counts.path) };
    const halves = { root: new Uint32Array(wide.root.buffer), path: new Uint32Array(wide.path.buffer) };
    const filled = { root: 0, path: 0 };
    for (const { words, isPath } of this.chunks()) {
      for (let i = 0; i < isPath.length; i++) {
        const cls = isPath[i] === 1 ? 'path' : 'root';
        const at = 2 * filled[cls]++;
        halves[cls][at + LOW_WORD] = words[3 * i + 2] as number;
        halves[cls][at + 1 - LOW_WORD] = words[3 * i + 1] as number;
      }
    }
    this.#sorted = { root: wide.root.sort(), path: wide.path.sort() };
    return this.#sorted;
  }

  /** Lets go of every hash: the encoder does, before it assembles the payload. */
  release(): void {
    this.#released = true;
    this.#chunks = [];
    this.#sorted = null;
  }

  #check(): void {
    if (this.#released) throw new Error('expression hashes used after they were spent');
  }
}

/** Writes to `out` from `at` the {@link KEY_HEAD_BITS}-bit key heads of sorted words 2:3: sorted too. */
export function keyHeadsOfWords(sorted: BigUint64Array, out: Float64Array, at: number): void {
  const halves = new Uint32Array(sorted.buffer, sorted.byteOffset, 2 * sorted.length);
  for (let i = 0; i < sorted.length; i++) {
    const high = halves[2 * i + 1 - LOW_WORD] as number;
    const low = halves[2 * i + LOW_WORD] as number;
    out[at + i] = high * 2 ** (KEY_HEAD_BITS - 32) + (low >>> (64 - KEY_HEAD_BITS));
  }
}

/**
 * The snapshot payload of a set of expressions. Throws RangeError for an fpr outside (0, 1) or a width
 * outside 24..64, and NonAsciiExpressionError for a non-ASCII expression.
 */
export async function encodeFilterSnapshot(
  expressions: Iterable<string>,
  opts: FilterSnapshotOptions,
): Promise<FilterSnapshot> {
  checkSnapshotOptions(opts);
  const hashes = new ExpressionHashes();
  for (const expression of expressions) hashes.add(expression);
  return encodeFilterSnapshotOfHashes(hashes, opts);
}

/**
 * {@link encodeFilterSnapshot} of expressions given by their hashes, which it spends: they are let go once
 * the key sets and the Bloom filter are built, before the payload is. Same errors, same bytes.
 */
export async function encodeFilterSnapshotOfHashes(
  hashes: ExpressionHashes,
  opts: FilterSnapshotOptions,
): Promise<FilterSnapshot> {
  checkSnapshotOptions(opts);
  const { payload, bits, keys } = snapshotPayload(hashes, opts);
  return { payload, entryCount: keyCount(keys), bits, checksum: await keySetChecksum(keys) };
}

function snapshotPayload(hashes: ExpressionHashes, opts: FilterSnapshotOptions) {
  const { bits, root, path } = keySets(hashes.sorted(), opts);
  const inserted = root.distinct + path.distinct;
  const capacity = insertCapacity(inserted);
  const keyCounts = { root: root.heads.length, path: path.heads.length };
  const bloom = KeyBloom.create(capacity, bloomRateFor(keyCounts, bits, opts.fpr));
  // Duplicates set the same bits again, so the filter depends on the set only.
  const hash = new Uint32Array(4);
  for (const { words, isPath } of hashes.chunks()) {
    for (let i = 0; i < isPath.length; i++) {
      hash[0] = words[3 * i] as number;
      hash[2] = words[3 * i + 1] as number;
      hash[3] = words[3 * i + 2] as number;
      bloom.addHash(hash, isPath[i] === 1 ? bits.path : bits.root, isPath[i] === 1);
    }
  }
  hashes.release();
  const parts = [
    riceEncode(root.heads, headBits(bits.root)),
    packFields([root.tails], [tailBits(bits.root)]),
    riceEncode(wildcards(root.tails), INDEX_BITS),
    riceEncode(path.heads, headBits(bits.path)),
    packFields([path.tails], [tailBits(bits.path)]),
    riceEncode(wildcards(path.tails), INDEX_BITS),
  ];
  const bitArray = bloom.bytes();
  const payload = new Uint8Array(
    SNAPSHOT_HEADER_BYTES + bitArray.length + parts.reduce((sum, part) => sum + part.length, 0),
  );
  const view = new DataView(payload.buffer);
  payload.set(SNAPSHOT_MAGIC, 0);
  payload[4] = FILTER_FORMAT_VERSION;
  payload[5] = bits.root;
  payload[6] = bits.path;
  payload[7] = bloom.hashCount;
  payload[8] = EXTENSION_BITS;
  view.setUint32(12, inserted);
  view.setUint32(16, capacity);
  view.setUint32(20, bloom.size);
  view.setUint32(24, bitArray.length);
  view.setUint32(28, (parts[0] as Uint8Array).length);
  view.setUint32(32, (parts[2] as Uint8Array).length);
  view.setUint32(36, (parts[3] as Uint8Array).length);
  payload.set(bitArray, SNAPSHOT_HEADER_BYTES);
  let at = SNAPSHOT_HEADER_BYTES + bitArray.length;
  for (const part of parts) {
    payload.set(part, at);
    at += part.length;
  }
  return { payload, bits, keys: { root: root.heads, path: path.heads } };
}

/** The key widths and each class's heads and tails, from its words 2:3 as sorted 64-bit integers. */
function keySets(sorted: PerClass<BigUint64Array>, opts: FilterSnapshotOptions) {
  const halves = {
    root: new Uint32Array(sorted.root.buffer, sorted.root.byteOffset, 2 * sorted.root.length),
    path: new Uint32Array(sorted.path.buffer, sorted.path.byteOffset, 2 * sorted.path.length),
  };
  const bits =
    opts.bits ??
    confirmationWidths(
      {
        root: classBuild(halves.root, sorted.root.length, MAX_CONFIRMATION_BITS).heads.length,
        path: classBuild(halves.path, sorted.path.length, MAX_CONFIRMATION_BITS).heads.length,
      },
      opts.fpr,
    );
  return {
    bits,
    root: classBuild(halves.root, sorted.root.length, bits.root),
    path: classBuild(halves.path, sorted.path.length, bits.path),
  };
}

/** Throws RangeError for an fpr outside (0, 1) or a width outside 24..64. */
function checkSnapshotOptions(opts: FilterSnapshotOptions): void {
  if (!(opts.fpr > 0 && opts.fpr < 1)) {
    throw new RangeError(`Bloom false-positive rate ${opts.fpr} is not in (0, 1)`);
  }
  if (opts.bits !== undefined && !isKeyWidths(opts.bits)) {
    throw new RangeError(`snapshot key widths ${opts.bits.root},${opts.bits.path} not in ${WIDTHS}`);
  }
}

/**
 * The heads and tails at width `bits` of `count` sorted 64-bit words (as 32-bit halves): equal heads make one
 * key whose tail is the members' tail, or {@link TAIL_ANY} when their tails differ.
 */
function classBuild(halves: Uint32Array, count: number, bits: number): ClassBuild {
  const head = headBits(bits);
  const tail = tailBits(bits);
  const heads = new Float64Array(count);
  const tails = new Uint16Array(count);
  let length = 0;
  let distinct = 0;
  let previousHigh = -1;
  let previousLow = -1;
  for (let i = 0; i < count; i++) {
    const high = halves[2 * i + 1 - LOW_WORD] as number;
    const low = halves[2 * i + LOW_WORD] as number;
    if (high === previousHigh && low === previousLow) continue;
    previousHigh = high;
    previousLow = low;
    distinct++;
    const key = head <= 32 ? high >>> (32 - head) : high * 2 ** (head - 32) + (low >>> (64 - head));
    const keyTail = tail > 0 ? (low >>> (64 - bits)) & ((1 << tail) - 1) : 0;
    if (length > 0 && heads[length - 1] === key) {
      if (tails[length - 1] !== keyTail) tails[length - 1] = TAIL_ANY;
      continue;
    }
    heads[length] = key;
    tails[length++] = keyTail;
  }
  return { heads: heads.subarray(0, length), tails: tails.subarray(0, length), distinct };
}

/** Indexes of the keys whose tail matches any tail. */
function wildcards(tails: Uint16Array): Float64Array {
  const found: number[] = [];
  for (let i = 0; i < tails.length; i++) if (tails[i] === TAIL_ANY) found.push(i);
  return Float64Array.from(found);
}

/**
 * The key widths a snapshot payload announces in its header, without decoding the rest; undefined when it is
 * not a filter snapshot of this format.
 */
export function filterSnapshotWidths(payload: Uint8Array): KeyWidths | undefined {
  if (!checkHeader(payload, SNAPSHOT_MAGIC, SNAPSHOT_HEADER_BYTES, 'snapshot').ok) return undefined;
  const bits = { root: payload[5] as number, path: payload[6] as number };
  return isKeyWidths(bits) ? bits : undefined;
}

/**
 * Reads a snapshot payload in place: checks the header and the section lengths and returns views of the
 * payload's bytes. The heads are not decoded here: {@link decodeFilterSnapshot} decodes them, and a consumer
 * that keeps the payload searches them coded (filter-coded-keys.ts); either checks every gap.
 */
export function readFilterSnapshot(payload: Uint8Array): Result<FilterSnapshotSections> {
  const header = checkHeader(payload, SNAPSHOT_MAGIC, SNAPSHOT_HEADER_BYTES, 'snapshot');
  if (!header.ok) return header;
  const view = header.value;
  const bits = { root: payload[5] as number, path: payload[6] as number };
  const hashCount = payload[7] as number;
  const inserted = view.getUint32(12);
  const capacity = view.getUint32(16);
  const size = view.getUint32(20);
  const bloomBytes = view.getUint32(24);
  if (!isKeyWidths(bits)) {
    return fail('filter_malformed', `snapshot key widths ${bits.root},${bits.path} not in ${WIDTHS}`);
  }
  if (payload[9] !== 0 || payload[10] !== 0 || payload[11] !== 0) {
    return fail('filter_malformed', 'snapshot reserved bytes are not 0');
  }
  if (inserted > capacity) {
    return fail('filter_malformed', `snapshot holds ${inserted} elements over its capacity ${capacity}`);
  }
  if (bloomBytes !== byteLength(size)) {
    return fail('filter_malformed', `snapshot Bloom length ${bloomBytes} does not match ${size} bits`);
  }
  const keysStart = SNAPSHOT_HEADER_BYTES + bloomBytes;
  if (keysStart > payload.length) return fail('filter_truncated', 'snapshot ends inside its Bloom filter');
  const bloom = KeyBloom.fromBytes(size, hashCount, payload.subarray(SNAPSHOT_HEADER_BYTES, keysStart));
  if (!bloom.ok) return bloom;
  const reader = new SectionReader(payload, keysStart);
  const root = reader.codedClass(bits.root, view.getUint32(28), view.getUint32(32), 'root');
  if (!root.ok) return root;
  const path = reader.codedClass(bits.path, view.getUint32(36), null, 'path');
  if (!path.ok) return path;
  const found = root.value.count + path.value.count;
  if (found > inserted) {
    return fail('filter_malformed', `snapshot holds ${found} keys for ${inserted} Bloom elements`);
  }
  return ok({
    bits,
    inserted,
    capacity,
    bloom: bloom.value,
    classes: { root: root.value, path: path.value },
  });
}

/** Decode and check a snapshot payload; a failure names what is wrong. The Bloom filter is a view. */
export function decodeFilterSnapshot(payload: Uint8Array): Result<DecodedFilterSnapshot> {
  const read = readFilterSnapshot(payload);
  if (!read.ok) return read;
  const { bits, inserted, capacity, bloom, classes } = read.value;
  const root = decodeClass(classes.root, bits.root);
  if (!root.ok) return root;
  const path = decodeClass(classes.path, bits.path);
  if (!path.ok) return path;
  return ok({ bits, inserted, capacity, bloom, keys: { root: root.value, path: path.value } });
}

function decodeClass(coded: CodedClass, bits: number): Result<TailedKeys> {
  const heads = riceDecode(coded.heads);
  if (!heads.ok) return heads;
  const tail = tailBits(bits);
  if (tail === 0) return ok({ keys: heads.value.keys, tails: null });
  const [tails] = unpackFields(coded.tails, coded.count, [tail]) as [Uint16Array];
  for (const index of coded.wildcards) tails[index] = TAIL_ANY;
  return ok({ keys: heads.value.keys, tails });
}

/**
 * The delta payload for net changes `added` and `removed` (expressions) at key widths `bits`, for a consumer
 * whose key heads, after the delta, are `after` (the hub's key sets at the delta's target version). A key on
 * both sides (two expressions of a class sharing a head) is dropped from both: the set keeps the key either way.
 * The caller passes only changes that alter the key sets. Throws RangeError for a width outside 24..64 or an
 * `after` that still holds a removed key.
 */
export function encodeFilterDelta(
  added: Iterable<string>,
  removed: Iterable<string>,
  bits: KeyWidths,
  after: ClassKeys,
): Uint8Array {
  if (!isKeyWidths(bits)) throw new RangeError(`delta key widths ${bits.root},${bits.path} not in ${WIDTHS}`);
  const plus = extendedKeysOf(added, bits);
  const minus = keysOf(removed, bits);
  const parts: Uint8Array[] = [];
  for (const cls of ['root', 'path'] as const) {
    const kept = keepKeys(plus[cls], minus[cls]);
    const gone = difference(minus[cls], plus[cls].keys);
    parts.push(
      riceEncode(kept.keys, headBits(bits[cls])),
      packFields([kept.tails, kept.extensions], [tailBits(bits[cls]), EXTENSION_BITS]),
      riceEncode(removedRanks(after[cls], kept.keys, gone), INDEX_BITS),
    );
  }
  const payload = new Uint8Array(DELTA_HEADER_BYTES + parts.reduce((sum, part) => sum + part.length, 0));
  const view = new DataView(payload.buffer);
  payload.set(DELTA_MAGIC, 0);
  payload[4] = FILTER_FORMAT_VERSION;
  payload[5] = bits.root;
  payload[6] = bits.path;
  payload[7] = EXTENSION_BITS;
  view.setUint32(8, (parts[0] as Uint8Array).length);
  view.setUint32(12, (parts[2] as Uint8Array).length);
  view.setUint32(16, (parts[3] as Uint8Array).length);
  let at = DELTA_HEADER_BYTES;
  for (const part of parts) {
    payload.set(part, at);
    at += part.length;
  }
  return payload;
}

/** Decode and check a delta payload; a failure names what is wrong. */
export function decodeFilterDelta(payload: Uint8Array): Result<FilterDelta> {
  const header = checkHeader(payload, DELTA_MAGIC, DELTA_HEADER_BYTES, 'delta');
  if (!header.ok) return header;
  const view = header.value;
  const bits = { root: payload[5] as number, path: payload[6] as number };
  if (!isKeyWidths(bits)) {
    return fail('filter_malformed', `delta key widths ${bits.root},${bits.path} not in ${WIDTHS}`);
  }
  const reader = new SectionReader(payload, DELTA_HEADER_BYTES);
  const root = reader.deltaClass(bits.root, view.getUint32(8), view.getUint32(12), 'root');
  if (!root.ok) return root;
  const path = reader.deltaClass(bits.path, view.getUint32(16), null, 'path');
  if (!path.ok) return path;
  return ok({
    bits,
    added: { root: root.value.added, path: path.value.added },
    removedRanks: { root: root.value.ranks, path: path.value.ranks },
  });
}

/** The keys of `plus` that are not in sorted `minus`, with their tails and extensions. */
function keepKeys(plus: ExtendedKeys, minus: Float64Array): ExtendedKeys {
  const keep: number[] = [];
  let j = 0;
  for (let i = 0; i < plus.keys.length; i++) {
    const key = plus.keys[i] as number;
    while (j < minus.length && (minus[j] as number) < key) j++;
    if (minus[j] !== key) keep.push(i);
  }
  return {
    keys: Float64Array.from(keep, (i) => plus.keys[i] as number),
    tails: Uint16Array.from(keep, (i) => plus.tails[i] as number),
    extensions: Uint16Array.from(keep, (i) => plus.extensions[i] as number),
  };
}

/** For each index, the value of each of `fields` at its width, least significant bit first, zero-padded. */
function packFields(fields: Uint16Array[], widths: number[]): Uint8Array {
  const count = fields[0]?.length ?? 0;
  const perEntry = widths.reduce((sum, width) => sum + width, 0);
  const out = new Uint8Array(Math.ceil((count * perEntry) / 8));
  let bit = 0;
  for (let i = 0; i < count; i++) {
    fields.forEach((field, f) => {
      const value = field[i] as number;
      for (let b = 0; b < (widths[f] as number); b++, bit++) {
        if ((value >>> b) & 1) out[bit >>> 3] = (out[bit >>> 3] as number) | (1 << (bit & 7));
      }
    });
  }
  return out;
}

/** The fields {@link packFields} wrote for `count` entries; null when the padding bits are not zero. */
function unpackFields(bytes: Uint8Array, count: number, widths: number[]): Uint16Array[] | null {
  const fields = widths.map(() => new Uint16Array(count));
  // Least significant bit first: a 32-bit accumulator refilled a byte at a time (widths are at most 16).
  let acc = 0;
  let filled = 0;
  let at = 0;
  for (let i = 0; i < count; i++) {
    for (let f = 0; f < widths.length; f++) {
      const width = widths[f] as number;
      while (filled < width) {
        acc |= (bytes[at++] as number) << filled;
        filled += 8;
      }
      (fields[f] as Uint16Array)[i] = acc & ((1 << width) - 1);
      acc >>>= width;
      filled -= width;
    }
  }
  return acc === 0 ? fields : null;
}

/** Reads the sections of a payload in order; every read checks that its bytes are there. */
class SectionReader {
  constructor(
    private readonly payload: Uint8Array,
    private at: number,
  ) {}

  codedClass(bits: number, headBytes: number, wildcardBytes: number | null, cls: string): Result<CodedClass> {
    const heads = this.take(headBytes);
    if (heads === null) return fail('filter_truncated', `payload ends inside its snapshot ${cls} heads`);
    const cursor = RiceCursor.open(heads);
    if (!cursor.ok) return cursor;
    if (cursor.value.bits !== headBits(bits)) {
      const what = `snapshot ${cls} heads have width ${cursor.value.bits}`;
      return fail('filter_malformed', `${what}, the header says ${headBits(bits)}`);
    }
    const count = cursor.value.count;
    const tail = tailBits(bits);
    const tails = this.take(Math.ceil((count * tail) / 8));
    if (tails === null) return fail('filter_truncated', `payload ends inside its snapshot ${cls} tails`);
    const spare = (count * tail) % 8;
    if (spare !== 0 && (tails[tails.length - 1] as number) >>> spare !== 0) {
      return fail('filter_malformed', `snapshot ${cls} tails have non-zero padding`);
    }
    const rest = this.payload.length - this.at;
    const any = this.keys(wildcardBytes ?? rest, INDEX_BITS, `snapshot ${cls} wildcard indexes`);
    if (!any.ok) return any;
    for (const index of any.value) {
      if (index >= count || tail === 0) {
        return fail('filter_malformed', `snapshot ${cls} wildcard index ${index} names no key with a tail`);
      }
    }
    return ok({ heads, count, tails, wildcards: any.value });
  }

  deltaClass(
    bits: number,
    headBytes: number,
    rankBytes: number | null,
    cls: string,
  ): Result<{ added: ExtendedKeys; ranks: Float64Array }> {
    const heads = this.keys(headBytes, headBits(bits), `delta added ${cls} heads`);
    if (!heads.ok) return heads;
    const fields = this.fields(heads.value.length, [tailBits(bits), EXTENSION_BITS], `delta ${cls} tails`);
    if (!fields.ok) return fields;
    const rest = this.payload.length - this.at;
    const ranks = this.keys(rankBytes ?? rest, INDEX_BITS, `delta removed ${cls} indexes`);
    if (!ranks.ok) return ranks;
    const [tails, extensions] = fields.value as [Uint16Array, Uint16Array];
    return ok({ added: { keys: heads.value, tails, extensions }, ranks: ranks.value });
  }

  /** One Rice-coded set of `length` bytes whose width must be `bits`. */
  private keys(length: number, bits: number, what: string): Result<Float64Array> {
    const bytes = this.take(length);
    if (bytes === null) return fail('filter_truncated', `payload ends inside its ${what}`);
    const decoded = riceDecode(bytes);
    if (!decoded.ok) return decoded;
    if (decoded.value.bits !== bits) {
      return fail('filter_malformed', `${what} have width ${decoded.value.bits}, the header says ${bits}`);
    }
    return ok(decoded.value.keys);
  }

  /** The fields {@link packFields} wrote for `count` entries. */
  private fields(count: number, widths: number[], what: string): Result<Uint16Array[]> {
    const perEntry = widths.reduce((sum, width) => sum + width, 0);
    const bytes = this.take(Math.ceil((count * perEntry) / 8));
    if (bytes === null) return fail('filter_truncated', `payload ends inside its ${what}`);
    const fields = unpackFields(bytes, count, widths);
    if (fields === null) return fail('filter_malformed', `${what} have non-zero padding`);
    return ok(fields);
  }

  private take(length: number): Uint8Array | null {
    if (this.at + length > this.payload.length) return null;
    const bytes = this.payload.subarray(this.at, this.at + length);
    this.at += length;
    return bytes;
  }
}

function checkHeader(
  payload: Uint8Array,
  magic: number[],
  headerBytes: number,
  what: string,
): Result<DataView> {
  if (payload.length < headerBytes) {
    return fail('filter_truncated', `${what} payload of ${payload.length} bytes is shorter than its header`);
  }
  if (magic.some((byte, i) => payload[i] !== byte))
    return fail('filter_malformed', `not a filter ${what} payload`);
  if (payload[4] !== FILTER_FORMAT_VERSION) {
    return fail('filter_unsupported', `${what} format version ${payload[4]} is not ${FILTER_FORMAT_VERSION}`);
  }
  const extensionAt = what === 'snapshot' ? 8 : 7;
  if (payload[extensionAt] !== EXTENSION_BITS) {
    return fail('filter_unsupported', `${what} key extensions are not ${EXTENSION_BITS} bits`);
  }
  return ok(new DataView(payload.buffer, payload.byteOffset, payload.byteLength));
}
