import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { RICE_HEADER_BYTES, RiceInputError, riceDecode, riceEncode } from '../../src/core/rice.ts';

const MAX_53 = 2 ** 53 - 1;

function roundTrip(keys: number[], bits: number): Float64Array {
  const decoded = riceDecode(riceEncode(Float64Array.from(keys), bits));
  if (!decoded.ok) throw new Error(decoded.error.message);
  expect(decoded.value.bits).toBe(bits);
  return decoded.value.keys;
}

/** Sorted unique whole numbers below 2^bits. */
const keySet = (bits: number, maxLength = 300) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: 2 ** Math.min(bits, 52) - 1 }), { maxLength })
    .map((keys) => keys.sort((a, b) => a - b));

describe('riceEncode / riceDecode', () => {
  it('round-trips the empty set and single keys, including 0 and the largest 53-bit key', () => {
    expect(roundTrip([], 24)).toEqual(new Float64Array(0));
    expect(riceEncode(new Float64Array(0), 24)).toHaveLength(RICE_HEADER_BYTES);
    for (const key of [0, 1, 2 ** 32, MAX_53]) expect(roundTrip([key], 53)).toEqual(Float64Array.of(key));
    expect(roundTrip([2 ** 24 - 1], 24)).toEqual(Float64Array.of(2 ** 24 - 1));
  });

  it('round-trips 53-bit keys at both ends of the range', () => {
    const keys = [0, 1, 2 ** 40, 2 ** 52, 2 ** 53 - 3, MAX_53];
    expect(roundTrip(keys, 53)).toEqual(Float64Array.from(keys));
  });

  it('round-trips consecutive keys (parameter 0) and outlying gaps', () => {
    const dense = Array.from({ length: 1000 }, (_, i) => 5000 + i);
    expect(roundTrip(dense, 24)).toEqual(Float64Array.from(dense));
    expect(riceEncode(Float64Array.from(dense), 24)[5]).toBe(0);
    const outliers = [...dense, 2 ** 45, 2 ** 45 + 1, MAX_53];
    expect(roundTrip(outliers, 53)).toEqual(Float64Array.from(outliers));
  });

  it('round-trips random sets at random widths', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 53 }).chain((bits) => fc.tuple(fc.constant(bits), keySet(bits))),
        ([bits, keys]) => {
          expect(roundTrip(keys, bits)).toEqual(Float64Array.from(keys));
        },
      ),
    );
  });

  it('round-trips random 53-bit keys and codes hashed keys near their entropy', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(fc.integer({ min: 0, max: 2 ** 21 - 1 }), fc.integer({ min: 0, max: 0xffffffff })),
          {
            minLength: 2,
            maxLength: 500,
            selector: ([high, low]) => high * 2 ** 32 + low,
          },
        ),
        (pairs) => {
          const keys = pairs.map(([high, low]) => high * 2 ** 32 + low).sort((a, b) => a - b);
          expect(roundTrip(keys, 53)).toEqual(Float64Array.from(keys));
        },
      ),
    );
    // 20,000 uniform 45-bit keys: mean gap 2^30.7, so about 32.1 bits each is the geometric entropy.
    let seed = 1;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const keys = new Float64Array(20_000).map(() => (random() % 2 ** 13) * 2 ** 32 + random());
    keys.sort();
    const bytes = riceEncode(keys, 45);
    expect(((bytes.length - RICE_HEADER_BYTES) * 8) / keys.length).toBeLessThan(32.4);
  });

  it('writes the documented layout', () => {
    // count 3, bits 24, k 0, first key 1, then the gaps 0 and 2 with k = 0: "0" and "110", least significant bit first.
    const bytes = riceEncode(Float64Array.of(1, 2, 5), 24);
    expect(toHex(bytes)).toBe('000000031800000000000000000106');
    expect(toHex(riceEncode(Float64Array.of(MAX_53), 53))).toBe('000000013500001fffffffffffff');
  });

  it('refuses keys that are not sorted unique whole numbers below 2^bits', () => {
    const bad: Array<[number[], number]> = [
      [[2, 1], 24],
      [[1, 1], 24],
      [[1.5], 24],
      [[-1], 24],
      [[2 ** 24], 24],
      [[Number.NaN], 24],
      [[1], 0],
      [[1], 54],
    ];
    for (const [keys, bits] of bad)
      expect(() => riceEncode(Float64Array.from(keys), bits)).toThrow(RiceInputError);
  });
});

describe('riceDecode of malformed input', () => {
  const valid = riceEncode(Float64Array.of(3, 70, 1000, 2 ** 30, 2 ** 31 + 5), 32);

  const failsWith = (bytes: Uint8Array, code: string) => {
    const result = riceDecode(bytes);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(code);
  };

  it('fails on every truncation', () => {
    for (let length = 0; length < valid.length; length++)
      expect(riceDecode(valid.subarray(0, length)).ok).toBe(false);
  });

  it('fails on trailing bytes and on non-zero padding', () => {
    failsWith(Uint8Array.of(...valid, 0), 'rice_malformed');
    const padded = valid.slice();
    padded[padded.length - 1] = (padded.at(-1) as number) | 0x80;
    expect(riceDecode(padded).ok).toBe(false);
  });

  it('fails on impossible header fields', () => {
    const withByte = (offset: number, value: number) => {
      const bytes = valid.slice();
      bytes[offset] = value;
      return bytes;
    };
    failsWith(withByte(4, 0), 'rice_malformed');
    failsWith(withByte(4, 54), 'rice_malformed');
    failsWith(withByte(5, 33), 'rice_malformed');
    failsWith(withByte(6, 1), 'rice_malformed');
    failsWith(withByte(0, 0xff), 'rice_truncated');
    const empty = riceEncode(new Float64Array(0), 24);
    failsWith(Uint8Array.of(...empty, 0), 'rice_malformed');
    failsWith(Uint8Array.of(...empty.subarray(0, 13), 1), 'rice_malformed');
  });

  it('fails, without looping, on a unary run past the end or past 2^bits', () => {
    const header = riceEncode(Float64Array.of(0, 1), 24).subarray(0, RICE_HEADER_BYTES);
    failsWith(Uint8Array.of(...header, 0xff, 0xff, 0xff, 0xff), 'rice_malformed');
    const huge = new Uint8Array(RICE_HEADER_BYTES + (1 << 20)).fill(0xff);
    huge.set(header);
    failsWith(huge, 'rice_malformed');
  });

  it('fails when a key would reach 2^bits', () => {
    // k = 0, first key 2^24 - 2, gaps 0 and 0: the second gap gives 2^24.
    const bytes = riceEncode(Float64Array.of(2 ** 24 - 3, 2 ** 24 - 2, 2 ** 24 - 1), 24);
    const view = new DataView(bytes.buffer);
    view.setUint32(10, 2 ** 24 - 2);
    expect(riceDecode(bytes).ok).toBe(false);
  });

  it('never throws on random bytes, and what it accepts is a valid key set', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 64 }),
        fc.integer({ min: 1, max: 53 }),
        (tail, bits) => {
          const bytes = Uint8Array.of(0, 0, 0, tail[0] ?? 0, bits, (tail[1] ?? 0) % (bits + 1), ...tail);
          const result = riceDecode(bytes);
          if (!result.ok) return;
          const { keys } = result.value;
          for (let i = 0; i < keys.length; i++) {
            expect(keys[i]).toBeLessThan(2 ** bits);
            if (i > 0) expect(keys[i]).toBeGreaterThan(keys[i - 1] as number);
          }
          expect(riceDecode(riceEncode(keys, bits))).toEqual(result);
        },
      ),
    );
  });
});
