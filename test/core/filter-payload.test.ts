import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex, toHex } from '../../src/core/bytes.ts';
import { confirmationKey } from '../../src/core/confirm.ts';
import {
  decodeFilterDelta,
  decodeFilterSnapshot,
  encodeFilterDelta,
  encodeFilterSnapshot,
  FILTER_FORMAT_VERSION,
} from '../../src/core/filter-payload.ts';
import { hashExpression, NonAsciiExpressionError } from '../../src/core/hash.ts';

const members = readFileSync(new URL('../fixtures/filter/malware-domains.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((name) => `${name}/`);

function keyOf(expression: string, bits: number): number {
  const hash = new Uint32Array(4);
  hashExpression(expression, hash);
  return confirmationKey(hash, bits);
}

/** The checksum computed the slow, obvious way: SHA-256 over sorted keys as 8-byte big-endian. */
function expectedChecksum(expressions: string[], bits: number): Promise<string> {
  const keys = [...new Set(expressions.map((e) => BigInt(keyOf(e, bits))))].sort((a, b) => (a < b ? -1 : 1));
  const bytes = new Uint8Array(keys.length * 8);
  keys.forEach((key, i) => {
    new DataView(bytes.buffer).setBigUint64(i * 8, key);
  });
  return sha256Hex(bytes);
}

describe('encodeFilterSnapshot', () => {
  it('writes the documented header, the raw Bloom filter and the Rice-coded keys', async () => {
    const snapshot = await encodeFilterSnapshot(members, { fpr: 1e-6 });
    const { payload } = snapshot;
    const view = new DataView(payload.buffer);
    expect(new TextDecoder().decode(payload.subarray(0, 4))).toBe('TDFS');
    expect(payload[4]).toBe(FILTER_FORMAT_VERSION);
    expect(payload[5]).toBe(snapshot.bits);
    expect(payload[6]).toBe(20);
    expect(view.getUint32(8)).toBe(members.length);
    expect(view.getFloat64(16)).toBe(1e-6);
    expect(view.getUint32(24)).toBe(Math.ceil(view.getUint32(12) / 8));
    expect(snapshot.entryCount).toBe(members.length);
    expect(snapshot.checksum).toBe(await expectedChecksum(members, snapshot.bits));

    const decoded = decodeFilterSnapshot(payload);
    if (!decoded.ok) throw new Error(decoded.error.message);
    expect(decoded.value.keys).toHaveLength(members.length);
    expect(decoded.value.expressionCount).toBe(members.length);
    expect(members.every((e) => decoded.value.bloom.has(e))).toBe(true);
  });

  it('does not change its bytes without a format version bump', async () => {
    const snapshot = await encodeFilterSnapshot(members.slice(0, 500), { fpr: 1e-6 });
    expect(snapshot.bits).toBe(34);
    expect(snapshot.payload).toHaveLength(3498);
    expect(await sha256Hex(snapshot.payload)).toBe(
      '6d0cf0730a683344ea9d940f86a455f53840eb22073106635acdd2ac7d3a4a65',
    );
    const delta = encodeFilterDelta(members.slice(500, 600), members.slice(0, 50), snapshot.bits);
    expect(await sha256Hex(delta)).toBe('ffe69e67548911ad9777073041706eebf0f1676196942af57c99a22481ac2a11');
  });

  it('gives the same bytes whatever the order and repeats of the input', async () => {
    const sample = members.slice(0, 300);
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(sample, { minLength: 300, maxLength: 300 }),
        fc.nat(50),
        async (order, n) => {
          const withRepeats = [...order, ...order.slice(0, n)];
          const a = await encodeFilterSnapshot(sample, { fpr: 1e-4 });
          const b = await encodeFilterSnapshot(new Set(withRepeats), { fpr: 1e-4 });
          expect(toHex(b.payload)).toBe(toHex(a.payload));
          expect(b.checksum).toBe(a.checksum);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('encodes the empty set and a single expression', async () => {
    for (const expressions of [[], ['example.com/']]) {
      const snapshot = await encodeFilterSnapshot(expressions, { fpr: 1e-6 });
      expect(snapshot.entryCount).toBe(expressions.length);
      const decoded = decodeFilterSnapshot(snapshot.payload);
      expect(decoded.ok && decoded.value.keys.length).toBe(expressions.length);
    }
  });

  it('keeps a key width it is given and counts shared keys once', async () => {
    const snapshot = await encodeFilterSnapshot(members, { fpr: 1e-6, bits: 24 });
    expect(snapshot.bits).toBe(24);
    expect(snapshot.entryCount).toBe(new Set(members.map((e) => keyOf(e, 24))).size);
    expect(snapshot.checksum).toBe(await expectedChecksum(members, 24));
  });

  it('refuses bad options and non-ASCII expressions with named errors', async () => {
    await expect(encodeFilterSnapshot(members, { fpr: 0 })).rejects.toThrow(RangeError);
    await expect(encodeFilterSnapshot(members, { fpr: 1e-6, bits: 54 })).rejects.toThrow(RangeError);
    await expect(encodeFilterSnapshot(['bücher.example/'], { fpr: 1e-6 })).rejects.toThrow(
      NonAsciiExpressionError,
    );
  });
});

describe('encodeFilterDelta', () => {
  it('carries the added and removed keys at the given width', () => {
    const payload = encodeFilterDelta(['new.example/', 'other.example/x'], ['old.example/'], 40);
    expect(new TextDecoder().decode(payload.subarray(0, 4))).toBe('TDFD');
    const delta = decodeFilterDelta(payload);
    if (!delta.ok) throw new Error(delta.error.message);
    expect(delta.value.bits).toBe(40);
    expect([...delta.value.added]).toEqual(
      [keyOf('new.example/', 40), keyOf('other.example/x', 40)].sort((a, b) => a - b),
    );
    expect([...delta.value.removed]).toEqual([keyOf('old.example/', 40)]);
  });

  it('drops a key that is both added and removed, and encodes an empty delta', () => {
    const delta = decodeFilterDelta(encodeFilterDelta(['a.example/', 'b.example/'], ['b.example/'], 30));
    expect(delta.ok && [...delta.value.added]).toEqual([keyOf('a.example/', 30)]);
    expect(delta.ok && delta.value.removed.length).toBe(0);
    const empty = decodeFilterDelta(encodeFilterDelta([], [], 53));
    expect(empty.ok && empty.value.added.length + empty.value.removed.length).toBe(0);
  });

  it('refuses a width outside 24..53', () => {
    expect(() => encodeFilterDelta([], [], 23)).toThrow(RangeError);
  });
});

describe('decoding corrupted payloads', () => {
  const code = (result: { ok: boolean; error?: { code: string } }) => (result.ok ? 'ok' : result.error?.code);

  it('fails on every truncation of a snapshot and of a delta', async () => {
    const { payload } = await encodeFilterSnapshot(members.slice(0, 50), { fpr: 1e-3 });
    for (let length = 0; length < payload.length; length++) {
      expect(decodeFilterSnapshot(payload.subarray(0, length)).ok).toBe(false);
    }
    const delta = encodeFilterDelta(members.slice(0, 5), members.slice(5, 10), 30);
    for (let length = 0; length < delta.length; length++) {
      expect(decodeFilterDelta(delta.subarray(0, length)).ok).toBe(false);
    }
  });

  it('names what is wrong in a snapshot header', async () => {
    const { payload } = await encodeFilterSnapshot(members.slice(0, 50), { fpr: 1e-3 });
    const patched = (offset: number, bytes: number[]) => {
      const copy = payload.slice();
      copy.set(bytes, offset);
      return decodeFilterSnapshot(copy);
    };
    expect(code(patched(0, [0x58]))).toBe('filter_malformed');
    expect(code(patched(4, [2]))).toBe('filter_unsupported');
    expect(code(patched(5, [23]))).toBe('filter_malformed');
    expect(code(patched(6, [0]))).toBe('bloom_malformed');
    expect(code(patched(7, [1]))).toBe('filter_malformed');
    expect(code(patched(8, [0, 0, 0, 1]))).toBe('filter_malformed');
    expect(code(patched(16, [0x7f, 0xf8, 0, 0, 0, 0, 0, 0]))).toBe('filter_malformed');
    expect(code(patched(24, [0, 0, 0, 1]))).toBe('filter_malformed');
    expect(code(decodeFilterDelta(payload))).toBe('filter_malformed');
  });

  it('refuses a delta whose key sets overlap or disagree with its header', () => {
    const payload = encodeFilterDelta(['a.example/'], ['b.example/'], 30);
    const view = new DataView(payload.buffer);
    const addedLength = view.getUint32(8);
    const overlapping = Uint8Array.of(
      ...payload.subarray(0, 12 + addedLength),
      ...payload.subarray(12, 12 + addedLength),
    );
    expect(code(decodeFilterDelta(overlapping))).toBe('filter_malformed');
    const otherBits = payload.slice();
    otherBits[5] = 31;
    expect(code(decodeFilterDelta(otherBits))).toBe('filter_malformed');
    const reserved = payload.slice();
    reserved[7] = 1;
    expect(code(decodeFilterDelta(reserved))).toBe('filter_malformed');
    expect(code(decodeFilterSnapshot(payload))).toBe('filter_malformed');
  });

  it('never throws on flipped bytes', async () => {
    const { payload } = await encodeFilterSnapshot(members.slice(0, 40), { fpr: 1e-2 });
    const delta = encodeFilterDelta(members.slice(40, 50), members.slice(0, 10), payload[5] as number);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        (flips) => {
          for (const source of [payload, delta]) {
            const copy = source.slice();
            for (const [at, mask] of flips) {
              const i = at % copy.length;
              copy[i] = (copy[i] as number) ^ mask;
            }
            expect(() => decodeFilterSnapshot(copy)).not.toThrow();
            expect(() => decodeFilterDelta(copy)).not.toThrow();
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
