/**
 * Payloads of the hashed `filter` feed (the bytes a signed artifact carries). Integers are big-endian.
 * Confirmation keys come in two classes, root (expressions `host/`) and path (all others), each with its
 * own width (see confirm.ts); every key set is Rice-coded (see rice.ts) at its class's width.
 *
 * Snapshot (format 2): the whole state.
 *
 *   offset    size  field
 *   0         4     magic "TDFS"
 *   4         1     format version (2)
 *   5         1     root key width (24..53)
 *   6         1     path key width (24..53)
 *   7         1     k: Bloom hash count
 *   8         4     n: distinct expressions put in the Bloom filter
 *   12        4     m: Bloom filter size in bits
 *   16        8     configured false-positive rate (float64)
 *   24        4     B = ceil(m / 8): byte length of the bit array
 *   28        4     R: byte length of the root keys
 *   32        B     Bloom bit array, raw: bit i is byte i >> 3, mask 1 << (i & 7)
 *   32+B      R     the sorted root keys, Rice-coded
 *   32+B+R    ...   the sorted path keys, Rice-coded
 *
 * Delta (format 2): net changes between two versions, as confirmation keys (a Bloom filter cannot remove).
 *
 *   offset  size  field
 *   0       4     magic "TDFD"
 *   4       1     format version (2)
 *   5       1     root key width; must equal the state's
 *   6       1     path key width; must equal the state's
 *   7       1     reserved, 0
 *   8       4     A: byte length of the added root keys
 *   12      4     D: byte length of the removed root keys
 *   16      4     P: byte length of the added path keys
 *   20      A     added root keys, Rice-coded
 *   20+A    D     removed root keys, Rice-coded
 *   20+A+D  P     added path keys, Rice-coded
 *   ...     ...   removed path keys, Rice-coded, to the end; no key of a class is both added and removed
 *
 * Expressions hash with MurmurHash3 x86_128 (hash.ts); Bloom indexes are described in bloom.ts and keys in
 * confirm.ts. Byte-identical output for the same set whatever the input order. Changing a byte of this
 * layout needs a new format version.
 */
import { byteLength, ExpressionBloom } from './bloom.ts';
import {
  confirmationKey,
  confirmationWidths,
  isKeyWidths,
  isRootExpression,
  type KeyWidths,
  MAX_CONFIRMATION_BITS,
} from './confirm.ts';
import {
  type ClassKeys,
  difference,
  intersects,
  keyCount,
  keySetChecksum,
  keysOf,
  narrowKeys,
  sortUnique,
} from './filter-keys.ts';
import { hashExpression } from './hash.ts';
import { riceDecode, riceEncode } from './rice.ts';
import { fail, ok, type Result } from './types.ts';

export const FILTER_FORMAT_VERSION = 2;
const SNAPSHOT_MAGIC = [0x54, 0x44, 0x46, 0x53]; // "TDFS"
const DELTA_MAGIC = [0x54, 0x44, 0x46, 0x44]; // "TDFD"
const SNAPSHOT_HEADER_BYTES = 32;
const DELTA_HEADER_BYTES = 20;

/** An encoded snapshot and what its manifest announces. */
export interface FilterSnapshot {
  payload: Uint8Array;
  /** Distinct confirmation keys of both classes (members; two expressions sharing a key count once). */
  entryCount: number;
  bits: KeyWidths;
  /** The state checksum of `keySetChecksum` (filter-keys.ts). */
  checksum: string;
}

/** A decoded snapshot payload. */
export interface DecodedFilterSnapshot {
  bits: KeyWidths;
  fpr: number;
  expressionCount: number;
  bloom: ExpressionBloom;
  keys: ClassKeys;
}

/** A decoded delta payload: per class, sorted disjoint key sets. */
export interface FilterDelta {
  bits: KeyWidths;
  added: ClassKeys;
  removed: ClassKeys;
}

/** How a snapshot is built. */
export interface FilterSnapshotOptions {
  /** Configured Bloom false-positive rate, in (0, 1). */
  fpr: number;
  /**
   * Key widths; default {@link confirmationWidths} of the key counts and `fpr`. A feed keeps its widths from
   * snapshot to snapshot, so that deltas published in between still apply.
   */
  bits?: KeyWidths;
}

/**
 * The snapshot payload of a set of expressions. Throws RangeError for an fpr outside (0, 1) or a width
 * outside 24..53, and NonAsciiExpressionError for a non-ASCII expression.
 */
export async function encodeFilterSnapshot(
  expressions: Iterable<string>,
  opts: FilterSnapshotOptions,
): Promise<FilterSnapshot> {
  if (opts.bits !== undefined && !isKeyWidths(opts.bits)) {
    throw new RangeError(`snapshot key widths ${opts.bits.root},${opts.bits.path} not in 24..53`);
  }
  const list = Array.isArray(expressions) ? (expressions as readonly string[]) : [...expressions];
  // Sorted distinct full-width keys count the distinct expressions (a 53-bit collision is negligible)
  // several times faster than a Set of strings would; narrowing sorted keys keeps them sorted.
  const hash = new Uint32Array(4);
  const rootWide = new Float64Array(list.length);
  const pathWide = new Float64Array(list.length);
  let roots = 0;
  let paths = 0;
  for (let i = 0; i < list.length; i++) {
    const expression = list[i] as string;
    hashExpression(expression, hash);
    const key = confirmationKey(hash, MAX_CONFIRMATION_BITS);
    if (isRootExpression(expression)) rootWide[roots++] = key;
    else pathWide[paths++] = key;
  }
  const rootDistinct = sortUnique(rootWide.subarray(0, roots));
  const pathDistinct = sortUnique(pathWide.subarray(0, paths));
  const count = rootDistinct.length + pathDistinct.length;
  const bits =
    opts.bits ?? confirmationWidths({ root: rootDistinct.length, path: pathDistinct.length }, opts.fpr);
  const keys = { root: narrowKeys(rootDistinct, bits.root), path: narrowKeys(pathDistinct, bits.path) };
  // Duplicates set the same bits again, so the filter depends on the set only.
  const bloom = ExpressionBloom.create(count, opts.fpr);
  for (let i = 0; i < list.length; i++) bloom.add(list[i] as string);
  const rootRice = riceEncode(keys.root, bits.root);
  const pathRice = riceEncode(keys.path, bits.path);
  const bitArray = bloom.bytes();

  const payload = new Uint8Array(SNAPSHOT_HEADER_BYTES + bitArray.length + rootRice.length + pathRice.length);
  const view = new DataView(payload.buffer);
  payload.set(SNAPSHOT_MAGIC, 0);
  payload[4] = FILTER_FORMAT_VERSION;
  payload[5] = bits.root;
  payload[6] = bits.path;
  payload[7] = bloom.hashCount;
  view.setUint32(8, count);
  view.setUint32(12, bloom.size);
  view.setFloat64(16, opts.fpr);
  view.setUint32(24, bitArray.length);
  view.setUint32(28, rootRice.length);
  payload.set(bitArray, SNAPSHOT_HEADER_BYTES);
  payload.set(rootRice, SNAPSHOT_HEADER_BYTES + bitArray.length);
  payload.set(pathRice, SNAPSHOT_HEADER_BYTES + bitArray.length + rootRice.length);
  return { payload, entryCount: keyCount(keys), bits, checksum: await keySetChecksum(keys) };
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

/** Decode and check a snapshot payload; a failure names what is wrong. */
export function decodeFilterSnapshot(payload: Uint8Array): Result<DecodedFilterSnapshot> {
  const header = checkHeader(payload, SNAPSHOT_MAGIC, SNAPSHOT_HEADER_BYTES, 'snapshot');
  if (!header.ok) return header;
  const view = header.value;
  const bits = { root: payload[5] as number, path: payload[6] as number };
  const hashCount = payload[7] as number;
  const expressionCount = view.getUint32(8);
  const size = view.getUint32(12);
  const fpr = view.getFloat64(16);
  const bloomBytes = view.getUint32(24);
  const rootBytes = view.getUint32(28);
  if (!isKeyWidths(bits)) {
    return fail('filter_malformed', `snapshot key widths ${bits.root},${bits.path} not in 24..53`);
  }
  if (!(fpr > 0 && fpr < 1))
    return fail('filter_malformed', `snapshot false-positive rate ${fpr} not in (0, 1)`);
  if (bloomBytes !== byteLength(size)) {
    return fail('filter_malformed', `snapshot Bloom length ${bloomBytes} does not match ${size} bits`);
  }
  const rootStart = SNAPSHOT_HEADER_BYTES + bloomBytes;
  const pathStart = rootStart + rootBytes;
  if (rootStart > payload.length) return fail('filter_truncated', 'snapshot ends inside its Bloom filter');
  if (pathStart > payload.length) return fail('filter_truncated', 'snapshot ends inside its root keys');
  const bloom = ExpressionBloom.fromBytes(
    size,
    hashCount,
    payload.subarray(SNAPSHOT_HEADER_BYTES, rootStart),
  );
  if (!bloom.ok) return bloom;
  const keys = decodeClassKeys(
    payload.subarray(rootStart, pathStart),
    payload.subarray(pathStart),
    bits,
    'snapshot',
  );
  if (!keys.ok) return keys;
  const found = keyCount(keys.value);
  if (found > expressionCount) {
    return fail('filter_malformed', `snapshot holds ${found} keys for ${expressionCount} expressions`);
  }
  return ok({ bits, fpr, expressionCount, bloom: bloom.value, keys: keys.value });
}

/**
 * The delta payload for net changes `added` and `removed` (expressions) at key widths `bits`. A key on both
 * sides (two expressions of a class sharing a key) is dropped from both: the set keeps the key either way.
 * The caller passes only changes that alter the key sets. Throws RangeError for a width outside 24..53.
 */
export function encodeFilterDelta(
  added: Iterable<string>,
  removed: Iterable<string>,
  bits: KeyWidths,
): Uint8Array {
  if (!isKeyWidths(bits)) throw new RangeError(`delta key widths ${bits.root},${bits.path} not in 24..53`);
  const plus = keysOf(added, bits);
  const minus = keysOf(removed, bits);
  const parts = [
    riceEncode(difference(plus.root, minus.root), bits.root),
    riceEncode(difference(minus.root, plus.root), bits.root),
    riceEncode(difference(plus.path, minus.path), bits.path),
    riceEncode(difference(minus.path, plus.path), bits.path),
  ];
  const payload = new Uint8Array(DELTA_HEADER_BYTES + parts.reduce((sum, part) => sum + part.length, 0));
  const view = new DataView(payload.buffer);
  payload.set(DELTA_MAGIC, 0);
  payload[4] = FILTER_FORMAT_VERSION;
  payload[5] = bits.root;
  payload[6] = bits.path;
  let at = DELTA_HEADER_BYTES;
  parts.forEach((part, i) => {
    if (i < 3) view.setUint32(8 + 4 * i, part.length);
    payload.set(part, at);
    at += part.length;
  });
  return payload;
}

/** Decode and check a delta payload; a failure names what is wrong. */
export function decodeFilterDelta(payload: Uint8Array): Result<FilterDelta> {
  const header = checkHeader(payload, DELTA_MAGIC, DELTA_HEADER_BYTES, 'delta');
  if (!header.ok) return header;
  const view = header.value;
  const bits = { root: payload[5] as number, path: payload[6] as number };
  if (payload[7] !== 0) return fail('filter_malformed', 'delta reserved byte is not 0');
  if (!isKeyWidths(bits)) {
    return fail('filter_malformed', `delta key widths ${bits.root},${bits.path} not in 24..53`);
  }
  const ends: number[] = [];
  let end = DELTA_HEADER_BYTES;
  for (let i = 0; i < 3; i++) {
    end += view.getUint32(8 + 4 * i);
    if (end > payload.length) return fail('filter_truncated', 'delta ends inside its key sets');
    ends.push(end);
  }
  const [addedRootEnd, removedRootEnd, addedPathEnd] = ends as [number, number, number];
  const added = decodeClassKeys(
    payload.subarray(DELTA_HEADER_BYTES, addedRootEnd),
    payload.subarray(removedRootEnd, addedPathEnd),
    bits,
    'delta',
  );
  if (!added.ok) return added;
  const removed = decodeClassKeys(
    payload.subarray(addedRootEnd, removedRootEnd),
    payload.subarray(addedPathEnd),
    bits,
    'delta',
  );
  if (!removed.ok) return removed;
  if (intersects(added.value.root, removed.value.root) || intersects(added.value.path, removed.value.path)) {
    return fail('filter_malformed', 'delta adds and removes the same key');
  }
  return ok({ bits, added: added.value, removed: removed.value });
}

/** A root and a path key set, each Rice-coded at its width in `bits`. */
function decodeClassKeys(
  rootBytes: Uint8Array,
  pathBytes: Uint8Array,
  bits: KeyWidths,
  what: string,
): Result<ClassKeys> {
  const root = riceDecode(rootBytes);
  if (!root.ok) return root;
  const path = riceDecode(pathBytes);
  if (!path.ok) return path;
  if (root.value.bits !== bits.root || path.value.bits !== bits.path) {
    return fail(
      'filter_malformed',
      `${what} key sets have widths ${root.value.bits},${path.value.bits}, the header says ${bits.root},${bits.path}`,
    );
  }
  return ok({ root: root.value.keys, path: path.value.keys });
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
  return ok(new DataView(payload.buffer, payload.byteOffset, payload.byteLength));
}
