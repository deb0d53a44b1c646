/**
 * Payloads of the hashed `filter` feed (the bytes a signed artifact carries). Integers are big-endian.
 *
 * Snapshot (format 1): the whole state.
 *
 *   offset  size  field
 *   0       4     magic "TDFS"
 *   4       1     format version (1)
 *   5       1     bits: confirmation key width (24..53)
 *   6       1     k: Bloom hash count
 *   7       1     reserved, 0
 *   8       4     n: distinct expressions put in the Bloom filter
 *   12      4     m: Bloom filter size in bits
 *   16      8     configured false-positive rate (float64)
 *   24      4     B = ceil(m / 8): byte length of the bit array
 *   28      B     Bloom bit array, raw: bit i is byte i >> 3, mask 1 << (i & 7)
 *   28+B    ...   the sorted confirmation keys, Rice-coded (see rice.ts), with the same bits
 *
 * Delta (format 1): net changes between two versions, as confirmation keys (a Bloom filter cannot remove).
 *
 *   offset  size  field
 *   0       4     magic "TDFD"
 *   4       1     format version (1)
 *   5       1     bits: confirmation key width; must equal the state's
 *   6       2     reserved, 0
 *   8       4     A: byte length of the added keys
 *   12      A     added keys, Rice-coded
 *   12+A    ...   removed keys, Rice-coded; no key is both added and removed
 *
 * Expressions hash with MurmurHash3 x86_128 (hash.ts); Bloom indexes are described in bloom.ts and keys in
 * confirm.ts. Byte-identical output for the same set whatever the input order. Changing a byte of this
 * layout needs a new format version.
 */
import { byteLength, ExpressionBloom } from './bloom.ts';
import { confirmationBits, confirmationKey, isConfirmationBits, MAX_CONFIRMATION_BITS } from './confirm.ts';
import { difference, intersects, keySetChecksum, keysOf, narrowKeys, sortUnique } from './filter-keys.ts';
import { hashExpression } from './hash.ts';
import { riceDecode, riceEncode } from './rice.ts';
import { fail, ok, type Result } from './types.ts';

export const FILTER_FORMAT_VERSION = 1;
const SNAPSHOT_MAGIC = [0x54, 0x44, 0x46, 0x53]; // "TDFS"
const DELTA_MAGIC = [0x54, 0x44, 0x46, 0x44]; // "TDFD"
const SNAPSHOT_HEADER_BYTES = 28;
const DELTA_HEADER_BYTES = 12;

/** An encoded snapshot and what its manifest announces. */
export interface FilterSnapshot {
  payload: Uint8Array;
  /** Distinct confirmation keys (members; two expressions sharing a key count once). */
  entryCount: number;
  bits: number;
  /** Hex SHA-256 over the sorted keys, 8 bytes big-endian each. */
  checksum: string;
}

/** A decoded snapshot payload. */
export interface DecodedFilterSnapshot {
  bits: number;
  fpr: number;
  expressionCount: number;
  bloom: ExpressionBloom;
  keys: Float64Array;
}

/** A decoded delta payload: sorted, disjoint key sets. */
export interface FilterDelta {
  bits: number;
  added: Float64Array;
  removed: Float64Array;
}

/** How a snapshot is built. */
export interface FilterSnapshotOptions {
  /** Configured Bloom false-positive rate, in (0, 1). */
  fpr: number;
  /**
   * Confirmation key width; default {@link confirmationBits} of the entry count and `fpr`. A feed keeps
   * its width from snapshot to snapshot, so that deltas published in between still apply.
   */
  bits?: number;
}

/**
 * The snapshot payload of a set of expressions. Throws RangeError for an fpr outside (0, 1) or bits outside
 * 24..53, and NonAsciiExpressionError for a non-ASCII expression.
 */
export async function encodeFilterSnapshot(
  expressions: Iterable<string>,
  opts: FilterSnapshotOptions,
): Promise<FilterSnapshot> {
  if (opts.bits !== undefined && !isConfirmationBits(opts.bits)) {
    throw new RangeError(`snapshot key bits ${opts.bits} not in 24..53`);
  }
  const list = Array.isArray(expressions) ? (expressions as readonly string[]) : [...expressions];
  // Sorted distinct full-width keys count the distinct expressions (a 53-bit collision is negligible)
  // several times faster than a Set of strings would; narrowing sorted keys keeps them sorted.
  const hash = new Uint32Array(4);
  const wide = new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) {
    hashExpression(list[i] as string, hash);
    wide[i] = confirmationKey(hash, MAX_CONFIRMATION_BITS);
  }
  const distinct = sortUnique(wide);
  const count = distinct.length;
  const bits = opts.bits ?? confirmationBits(count, opts.fpr);
  const keys = narrowKeys(distinct, bits);
  // Duplicates set the same bits again, so the filter depends on the set only.
  const bloom = ExpressionBloom.create(count, opts.fpr);
  for (let i = 0; i < list.length; i++) bloom.add(list[i] as string);
  const rice = riceEncode(keys, bits);
  const bitArray = bloom.bytes();

  const payload = new Uint8Array(SNAPSHOT_HEADER_BYTES + bitArray.length + rice.length);
  const view = new DataView(payload.buffer);
  payload.set(SNAPSHOT_MAGIC, 0);
  payload[4] = FILTER_FORMAT_VERSION;
  payload[5] = bits;
  payload[6] = bloom.hashCount;
  view.setUint32(8, count);
  view.setUint32(12, bloom.size);
  view.setFloat64(16, opts.fpr);
  view.setUint32(24, bitArray.length);
  payload.set(bitArray, SNAPSHOT_HEADER_BYTES);
  payload.set(rice, SNAPSHOT_HEADER_BYTES + bitArray.length);
  return { payload, entryCount: keys.length, bits, checksum: await keySetChecksum(keys) };
}

/** Decode and check a snapshot payload; a failure names what is wrong. */
export function decodeFilterSnapshot(payload: Uint8Array): Result<DecodedFilterSnapshot> {
  const header = checkHeader(payload, SNAPSHOT_MAGIC, SNAPSHOT_HEADER_BYTES, 'snapshot');
  if (!header.ok) return header;
  const view = header.value;
  const bits = payload[5] as number;
  const hashCount = payload[6] as number;
  const expressionCount = view.getUint32(8);
  const size = view.getUint32(12);
  const fpr = view.getFloat64(16);
  const bloomBytes = view.getUint32(24);
  if (payload[7] !== 0) return fail('filter_malformed', 'snapshot reserved byte is not 0');
  if (!isConfirmationBits(bits)) return fail('filter_malformed', `snapshot key bits ${bits} not in 24..53`);
  if (!(fpr > 0 && fpr < 1))
    return fail('filter_malformed', `snapshot false-positive rate ${fpr} not in (0, 1)`);
  if (bloomBytes !== byteLength(size)) {
    return fail('filter_malformed', `snapshot Bloom length ${bloomBytes} does not match ${size} bits`);
  }
  const riceStart = SNAPSHOT_HEADER_BYTES + bloomBytes;
  if (riceStart > payload.length) return fail('filter_truncated', 'snapshot ends inside its Bloom filter');
  const bloom = ExpressionBloom.fromBytes(
    size,
    hashCount,
    payload.subarray(SNAPSHOT_HEADER_BYTES, riceStart),
  );
  if (!bloom.ok) return bloom;
  const keys = riceDecode(payload.subarray(riceStart));
  if (!keys.ok) return keys;
  if (keys.value.bits !== bits) {
    return fail('filter_malformed', `snapshot keys have ${keys.value.bits} bits, header says ${bits}`);
  }
  if (keys.value.keys.length > expressionCount) {
    return fail(
      'filter_malformed',
      `snapshot holds ${keys.value.keys.length} keys for ${expressionCount} expressions`,
    );
  }
  return ok({ bits, fpr, expressionCount, bloom: bloom.value, keys: keys.value.keys });
}

/**
 * The delta payload for net changes `added` and `removed` (expressions) at key width `bits`. A key on both
 * sides (two expressions sharing a key) is dropped from both: the set keeps the key either way. The caller
 * passes only changes that alter the set of keys. Throws RangeError for bits outside 24..53.
 */
export function encodeFilterDelta(
  added: Iterable<string>,
  removed: Iterable<string>,
  bits: number,
): Uint8Array {
  if (!isConfirmationBits(bits)) throw new RangeError(`delta key bits ${bits} not in 24..53`);
  const addedKeys = keysOf(added, bits);
  const removedKeys = keysOf(removed, bits);
  const addedRice = riceEncode(difference(addedKeys, removedKeys), bits);
  const removedRice = riceEncode(difference(removedKeys, addedKeys), bits);
  const payload = new Uint8Array(DELTA_HEADER_BYTES + addedRice.length + removedRice.length);
  payload.set(DELTA_MAGIC, 0);
  payload[4] = FILTER_FORMAT_VERSION;
  payload[5] = bits;
  new DataView(payload.buffer).setUint32(8, addedRice.length);
  payload.set(addedRice, DELTA_HEADER_BYTES);
  payload.set(removedRice, DELTA_HEADER_BYTES + addedRice.length);
  return payload;
}

/** Decode and check a delta payload; a failure names what is wrong. */
export function decodeFilterDelta(payload: Uint8Array): Result<FilterDelta> {
  const header = checkHeader(payload, DELTA_MAGIC, DELTA_HEADER_BYTES, 'delta');
  if (!header.ok) return header;
  const bits = payload[5] as number;
  if (payload[6] !== 0 || payload[7] !== 0) return fail('filter_malformed', 'delta reserved bytes are not 0');
  if (!isConfirmationBits(bits)) return fail('filter_malformed', `delta key bits ${bits} not in 24..53`);
  const addedEnd = DELTA_HEADER_BYTES + header.value.getUint32(8);
  if (addedEnd > payload.length) return fail('filter_truncated', 'delta ends inside its added keys');
  const added = riceDecode(payload.subarray(DELTA_HEADER_BYTES, addedEnd));
  if (!added.ok) return added;
  const removed = riceDecode(payload.subarray(addedEnd));
  if (!removed.ok) return removed;
  if (added.value.bits !== bits || removed.value.bits !== bits) {
    return fail('filter_malformed', `delta key sets do not have the header's ${bits} bits`);
  }
  if (intersects(added.value.keys, removed.value.keys)) {
    return fail('filter_malformed', 'delta adds and removes the same key');
  }
  return ok({ bits, added: added.value.keys, removed: removed.value.keys });
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
