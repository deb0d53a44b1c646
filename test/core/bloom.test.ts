import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bloomRate, bloomShape, KeyBloom } from '../../src/core/bloom.ts';
import { confirmationKey, EXTENSION_BITS, keyExtension, keyTail } from '../../src/core/confirm.ts';
import { hashExpression } from '../../src/core/hash.ts';

const domains = readFileSync(new URL('../fixtures/filter/malware-domains.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean);
const members = domains.map((name) => `${name}/`);
const BITS = 40;

function hashOf(expression: string): Uint32Array {
  const hash = new Uint32Array(4);
  hashExpression(expression, hash);
  return hash;
}

function add(bloom: KeyBloom, expression: string, bits = BITS, path = false): void {
  const hash = hashOf(expression);
  bloom.addHash(hash, bits, path);
}

function filled(fpr: number): KeyBloom {
  const bloom = KeyBloom.create(members.length, fpr);
  for (const expression of members) add(bloom, expression);
  return bloom;
}

describe('KeyBloom', () => {
  it('has no false negatives on real domains, at any key width and in either class', () => {
    fc.assert(
      fc.property(fc.integer({ min: 24, max: 53 }), fc.boolean(), (bits, path) => {
        const bloom = KeyBloom.create(members.length, 0.01);
        for (const expression of members) add(bloom, expression, bits, path);
        expect(members.filter((e) => !bloom.hasHash(hashOf(e), bits, path))).toEqual([]);
      }),
      { numRuns: 30 },
    );
  });

  it('puts a key in the same bits from its hash and from its head, tail and extension (what a delta carries)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 24, max: 64 }),
        fc.boolean(),
        (words, bits, path) => {
          const hash = Uint32Array.from(words);
          const a = KeyBloom.create(100, 0.01);
          const b = KeyBloom.create(100, 0.01);
          a.addHash(hash, bits, path);
          b.addKey(confirmationKey(hash, bits), keyTail(hash, bits), bits, keyExtension(hash), path);
          expect(b.bytes()).toEqual(a.bytes());
          expect(b.hasHash(hash, bits, path)).toBe(true);
        },
      ),
    );
  });

  it('takes the fewest bits for n and fpr over the two whole hash counts around log2(1/fpr)', () => {
    for (const fpr of [0.5, 1 / 32, 1e-3, 1e-6]) {
      const { size, hashCount } = bloomShape(100_000, fpr);
      expect(bloomRate(size, hashCount, 100_000)).toBeLessThanOrEqual(fpr * (1 + 1e-9));
      expect(bloomRate(size - 100, hashCount, 100_000)).toBeGreaterThan(fpr);
      expect([Math.floor(Math.log2(1 / fpr)), Math.ceil(Math.log2(1 / fpr))]).toContain(hashCount);
      // Within 1% of the real-valued optimum n log2(1/fpr) / ln 2.
      expect(size).toBeLessThan((1.01 * 100_000 * Math.log2(1 / fpr)) / Math.LN2);
    }
    const bloom = KeyBloom.create(100_000, 1e-6);
    expect(bloom.bytes()).toHaveLength(Math.ceil(bloom.size / 8));
  });

  it('passes non-members at the rate it was built for, and a colliding key only with its extension', () => {
    const bloom = filled(0.02);
    let positives = 0;
    let sameKeyPositives = 0;
    const hash = new Uint32Array(4);
    for (let i = 0; i < 100_000; i++) {
      hashExpression(`probe-${i}.example/`, hash);
      if (bloom.hasHash(hash, BITS, false)) positives++;
      // The key of a member with another extension: stopped unless all the other bits are set.
      const member = hashOf(members[i % members.length] as string);
      member[0] =
        ((member[0] as number) + (1 + Math.floor(i / members.length)) * 2 ** (32 - EXTENSION_BITS)) >>> 0;
      if (bloom.hasHash(member, BITS, false)) sameKeyPositives++;
    }
    const expected = bloomRate(bloom.size, bloom.hashCount, members.length) * 100_000;
    for (const count of [positives, sameKeyPositives]) {
      expect(count).toBeGreaterThan(expected * 0.8);
      expect(count).toBeLessThan(expected * 1.2);
    }
  });

  it("answers as bloom-filters' own `has` does, on members, non-members and near misses, at any width", () => {
    const probes = [...members, ...Array.from({ length: 20_000 }, (_, i) => `probe-${i}.example/`)].map(
      hashOf,
    );
    // A member's key with another extension (a member in the other class is probed below too).
    const nearMisses = probes.slice(0, members.length).map((hash) => {
      const miss = hash.slice();
      miss[0] = ((miss[0] as number) + 2 ** (32 - EXTENSION_BITS)) >>> 0;
      return miss;
    });
    for (const bits of [24, 32, 40, 53, 64]) {
      for (const path of [false, true]) {
        const bloom = KeyBloom.create(members.length, 0.05);
        for (const hash of probes.slice(0, members.length)) bloom.addHash(hash, bits, path);
        let positives = 0;
        let disagreements = 0;
        for (const hash of [...probes, ...nearMisses]) {
          for (const cls of [path, !path]) {
            const fast = bloom.hasHash(hash, bits, cls);
            if (fast !== bloom.libraryHas(hash, bits, cls)) disagreements++;
            if (fast) positives++;
          }
        }
        expect(disagreements).toBe(0);
        // Both answers were exercised: every member passes, most of the rest do not.
        expect(positives).toBeGreaterThanOrEqual(members.length);
        expect(positives).toBeLessThan(members.length + 4_000);
      }
    }
  });

  it('keeps the classes apart: a root key is not a path key', () => {
    const bloom = filled(1e-4);
    const passed = members.filter((e) => bloom.hasHash(hashOf(e), BITS, true)).length;
    expect(passed).toBeLessThan(5);
  });

  it('reads a view of its raw bytes (no copy) that takes no elements, and copies itself to take them', () => {
    const bloom = filled(0.01);
    const bytes = bloom.bytes().slice();
    const view = KeyBloom.fromBytes(bloom.size, bloom.hashCount, bytes);
    if (!view.ok) throw new Error(view.error.message);
    expect(view.value.bytes()).toBe(bytes);
    expect(members.every((e) => view.value.hasHash(hashOf(e), BITS, false))).toBe(true);
    expect(members.every((e) => view.value.libraryHas(hashOf(e), BITS, false))).toBe(true);
    expect(() => add(view.value, 'added.example/')).toThrow(TypeError);
    const grown = view.value.copy();
    add(grown, 'added.example/');
    expect(grown.hasHash(hashOf('added.example/'), BITS, false)).toBe(true);
    expect(bytes).toEqual(bloom.bytes());
  });

  it('refuses a bit array that does not match its size or hash count', () => {
    const codes = [
      KeyBloom.fromBytes(100, 3, new Uint8Array(12)),
      KeyBloom.fromBytes(100, 3, new Uint8Array(14)),
      KeyBloom.fromBytes(100, 3, Uint8Array.of(...new Uint8Array(12), 0x10)),
      KeyBloom.fromBytes(0, 3, new Uint8Array(0)),
      KeyBloom.fromBytes(100, 0, new Uint8Array(13)),
      KeyBloom.fromBytes(100, 65, new Uint8Array(13)),
    ].map((result) => (result.ok ? 'ok' : result.error.code));
    expect(codes).toEqual(Array(6).fill('bloom_malformed'));
    expect(KeyBloom.fromBytes(100, 3, Uint8Array.of(...new Uint8Array(12), 0x0f)).ok).toBe(true);
  });

  it('refuses a false-positive rate outside (0, 1) and filters past 2^32 bits', () => {
    for (const fpr of [0, 1, -0.5, Number.NaN]) expect(() => KeyBloom.create(10, fpr)).toThrow(RangeError);
    expect(() => KeyBloom.create(200_000_000, 1e-6)).toThrow(/exceeds 2\^32/);
  });
});
