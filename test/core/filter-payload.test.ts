import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex, toHex } from '../../src/core/bytes.ts';
import {
  confirmationKey,
  confirmationWidths,
  EXTENSION_BITS,
  insertCapacity,
  isRootExpression,
  KEY_HEAD_BITS,
  type KeyWidths,
  keyExtension,
  keyTail,
} from '../../src/core/confirm.ts';
import { keysOf, TAIL_ANY } from '../../src/core/filter-keys.ts';
import {
  decodeFilterDelta,
  decodeFilterSnapshot,
  ExpressionHashes,
  encodeFilterDelta,
  encodeFilterSnapshot,
  encodeFilterSnapshotOfHashes,
  FILTER_FORMAT_VERSION,
  filterSnapshotWidths,
  keyHeadsOfWords,
} from '../../src/core/filter-payload.ts';
import { hashExpression, NonAsciiExpressionError } from '../../src/core/hash.ts';
import { filterDeltaFrom } from '../helpers/filter-delta.ts';

const members = readFileSync(new URL('../fixtures/filter/malware-domains.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((name) => `${name}/`);

/** Domains as root expressions, and URL expressions on the same names: both key classes. */
const mixed = [...members.slice(0, 1500), ...members.slice(1500).map((e) => `${e}login.php?id=1`)];

function hashOf(expression: string): Uint32Array {
  const hash = new Uint32Array(4);
  hashExpression(expression, hash);
  return hash;
}

/** The head of an expression's key at width `bits`. */
const keyOf = (expression: string, bits: number): number => confirmationKey(hashOf(expression), bits);

/** The key of an expression at its class's width. */
const classKeyOf = (expression: string, bits: KeyWidths) =>
  keyOf(expression, isRootExpression(expression) ? bits.root : bits.path);

/**
 * The checksum computed the slow, obvious way: SHA-256 over the root key count, the sorted root keys, then
 * the sorted path keys, all as 8-byte big-endian.
 */
function expectedChecksum(expressions: string[], bits: KeyWidths): Promise<string> {
  const sorted = (list: string[], width: number) =>
    [...new Set(list.map((e) => BigInt(keyOf(e, width))))].sort((a, b) => (a < b ? -1 : 1));
  const root = sorted(expressions.filter(isRootExpression), bits.root);
  const path = sorted(
    expressions.filter((e) => !isRootExpression(e)),
    bits.path,
  );
  const numbers = [BigInt(root.length), ...root, ...path];
  const bytes = new Uint8Array(numbers.length * 8);
  numbers.forEach((n, i) => {
    new DataView(bytes.buffer).setBigUint64(i * 8, n);
  });
  return sha256Hex(bytes);
}

describe('encodeFilterSnapshotOfHashes', () => {
  // Real names, each as a root expression and 32 paths: more expressions than one chunk of hashes (65 536),
  // and 5 000 of them twice. The digests are those of the payloads the encoder of strings gave before it was
  // built on hashes.
  const names = members.map((member) => member.slice(0, -1));
  const list = names.flatMap((name, i) => [
    `${name}/`,
    ...Array.from({ length: 32 }, (_, j) => `${name}/p/${(i * 7 + j) % 50}`),
  ]);
  const withRepeats = [...list, ...list.slice(0, 5000)];
  const cases = [
    { opts: { fpr: 1 / 32 }, sha256: '21d43c59d50a46e4b47ae6628e89da836c606cb6616ed3dbf8b89a8ec3f85c31' },
    {
      opts: { fpr: 1e-6, bits: { root: 40, path: 60 } },
      sha256: '37f99a84d042e577ad0fc684827da71367875f6ffa5e9e1e702bd11488276fda',
    },
  ];

  it('gives from the hash words of real names the bytes the encoder of strings gave', async () => {
    expect(list.length).toBeGreaterThan(1 << 16);
    for (const { opts, sha256 } of cases) {
      const fromStrings = await encodeFilterSnapshot(withRepeats, opts);
      expect(await sha256Hex(fromStrings.payload)).toBe(sha256);
      // Hashed in another order, sorted already (as a scan does for the wide keys): the same snapshot.
      const hashes = new ExpressionHashes();
      for (const expression of [...withRepeats].reverse()) hashes.add(expression);
      hashes.sorted();
      const fromHashes = await encodeFilterSnapshotOfHashes(hashes, opts);
      expect(Buffer.from(fromHashes.payload).equals(Buffer.from(fromStrings.payload))).toBe(true);
      expect(fromHashes.checksum).toBe(fromStrings.checksum);
      expect(fromHashes.entryCount).toBe(fromStrings.entryCount);
      expect(fromHashes.bits).toEqual(fromStrings.bits);
      // Spent: its memory went before the payload was assembled.
      expect(() => hashes.sorted()).toThrow(/spent/);
    }
  });

  it('sorts the words of each class to the order of their wide key heads, repeats kept', () => {
    const hashes = new ExpressionHashes();
    for (const expression of withRepeats) hashes.add(expression);
    expect(hashes.counts).toEqual({
      root: withRepeats.filter(isRootExpression).length,
      path: withRepeats.filter((e) => !isRootExpression(e)).length,
    });
    const sorted = hashes.sorted();
    for (const cls of ['root', 'path'] as const) {
      const expressions = withRepeats.filter((e) => isRootExpression(e) === (cls === 'root'));
      const expected = Float64Array.from(expressions, (e) => keyOf(e, KEY_HEAD_BITS)).sort();
      const heads = new Float64Array(sorted[cls].length + 1);
      keyHeadsOfWords(sorted[cls], heads, 1);
      expect(Buffer.from(heads.buffer, 8).equals(Buffer.from(expected.buffer))).toBe(true);
    }
  });
});

describe('encodeFilterSnapshot', () => {
  it('writes the documented header, the raw Bloom filter and the Rice-coded heads and tails of both classes', async () => {
    const snapshot = await encodeFilterSnapshot(mixed, { fpr: 1 / 32 });
    const { payload } = snapshot;
    const view = new DataView(payload.buffer);
    expect(new TextDecoder().decode(payload.subarray(0, 4))).toBe('TDFS');
    expect(payload[4]).toBe(FILTER_FORMAT_VERSION);
    expect(payload[5]).toBe(snapshot.bits.root);
    expect(payload[6]).toBe(snapshot.bits.path);
    expect(payload[8]).toBe(EXTENSION_BITS);
    expect(view.getUint32(12)).toBe(mixed.length);
    expect(view.getUint32(16)).toBe(insertCapacity(mixed.length));
    expect(view.getUint32(24)).toBe(Math.ceil(view.getUint32(20) / 8));
    const rootKeysAt = 40 + view.getUint32(24);
    // Each head set is a Rice set (see rice.ts): its count, then its width.
    expect(new DataView(payload.buffer, rootKeysAt).getUint32(0)).toBe(1500);
    expect(payload[rootKeysAt + 4]).toBe(Math.min(snapshot.bits.root, 53));
    expect(snapshot.entryCount).toBe(mixed.length);
    expect(snapshot.checksum).toBe(await expectedChecksum(mixed, snapshot.bits));
    expect(filterSnapshotWidths(payload)).toEqual(snapshot.bits);

    const decoded = decodeFilterSnapshot(payload);
    if (!decoded.ok) throw new Error(decoded.error.message);
    const { keys, bloom, bits } = decoded.value;
    expect(bits).toEqual(snapshot.bits);
    expect(bits.path).toBeGreaterThan(53);
    expect(keys.root.keys).toHaveLength(1500);
    expect(keys.path.keys).toHaveLength(mixed.length - 1500);
    expect([...keys.root.keys]).toEqual(
      [...new Set(mixed.slice(0, 1500).map((e) => classKeyOf(e, bits)))].sort((a, b) => a - b),
    );
    // Each head's tail is the bits after it.
    const url = mixed[1500] as string;
    const at = keys.path.keys.indexOf(classKeyOf(url, bits));
    expect(keys.path.tails?.[at]).toBe(keyTail(hashOf(url), bits.path));
    expect(decoded.value.inserted).toBe(mixed.length);
    expect(
      mixed.every((e) =>
        bloom.hasHash(hashOf(e), isRootExpression(e) ? bits.root : bits.path, !isRootExpression(e)),
      ),
    ).toBe(true);
  });

  it('chooses the widths of confirmationWidths for its key counts', async () => {
    const both = await encodeFilterSnapshot(mixed, { fpr: 1 / 32 });
    expect(both.bits).toEqual(confirmationWidths({ root: 1500, path: mixed.length - 1500 }, 1 / 32));
    const urls = await encodeFilterSnapshot(
      members.map((e) => `${e}x`),
      { fpr: 1e-3 },
    );
    expect(urls.bits).toEqual(confirmationWidths({ root: 0, path: members.length }, 1e-3));
  });

  it('does not change its bytes without a format version bump', async () => {
    const set = [...members.slice(0, 400), ...members.slice(400, 500).map((e) => `${e}login.php`)];
    const snapshot = await encodeFilterSnapshot(set, { fpr: 1 / 32 });
    expect(snapshot.bits).toEqual({ root: 51, path: 53 });
    expect(snapshot.payload).toHaveLength(11893);
    expect(await sha256Hex(snapshot.payload)).toBe(
      '02e2848be6d3cada0680c1ecb895c7f8b42effd13ec08b79a23b763ed0210e1e',
    );
    const delta = filterDeltaFrom(
      set,
      [...members.slice(500, 600), 'x.example/a'],
      [...members.slice(0, 50), `${members[450]}login.php`],
      snapshot.bits,
    );
    expect(delta).toHaveLength(773);
    expect(await sha256Hex(delta)).toBe('b7769cfe2030a9c948aeafa4f067b07ea1626efc170728bcf640e26d046341db');
  });

  it('gives the same bytes whatever the order and repeats of the input', async () => {
    const sample = [...mixed.slice(0, 200), ...mixed.slice(-100)];
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(sample, { minLength: 300, maxLength: 300 }),
        fc.nat(50),
        async (order, n) => {
          const withRepeats = [...order, ...order.slice(0, n)];
          const a = await encodeFilterSnapshot(sample, { fpr: 1e-2 });
          const b = await encodeFilterSnapshot(new Set(withRepeats), { fpr: 1e-2 });
          expect(toHex(b.payload)).toBe(toHex(a.payload));
          expect(b.checksum).toBe(a.checksum);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('encodes the empty set and a single expression of each class', async () => {
    for (const expressions of [[], ['example.com/'], ['example.com/a']]) {
      const snapshot = await encodeFilterSnapshot(expressions, { fpr: 1 / 32 });
      expect(snapshot.entryCount).toBe(expressions.length);
      expect(snapshot.checksum).toBe(await expectedChecksum(expressions, snapshot.bits));
      const decoded = decodeFilterSnapshot(snapshot.payload);
      if (!decoded.ok) throw new Error(decoded.error.message);
      expect(decoded.value.keys.root.keys.length + decoded.value.keys.path.keys.length).toBe(
        expressions.length,
      );
    }
  });

  it('keeps key widths it is given and counts shared heads once per class, their tails as any tail', async () => {
    const bits = { root: 24, path: 26 };
    const snapshot = await encodeFilterSnapshot(mixed, { fpr: 1e-2, bits });
    expect(snapshot.bits).toEqual(bits);
    expect(snapshot.entryCount).toBe(
      new Set(mixed.slice(0, 1500).map((e) => keyOf(e, 24))).size +
        new Set(mixed.slice(1500).map((e) => keyOf(e, 26))).size,
    );
    expect(snapshot.checksum).toBe(await expectedChecksum(mixed, bits));
  });

  it('marks a head shared by members with other tails as matching any tail', async () => {
    // At 64 bits the head is the top 53 bits: find two expressions whose heads collide at 24 + 11 bits
    // by brute force over a 35-bit width (a 24-bit head and an 11-bit tail would need a 2^24 search).
    const bits = { root: 64, path: 64 };
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null; i++) {
      const expression = `n${i}.example/`;
      const head = keyOf(expression, 24);
      const other = seen.get(head);
      if (other !== undefined) pair = [other, expression];
      else seen.set(head, expression);
    }
    const snapshot = await encodeFilterSnapshot(pair, { fpr: 1e-2, bits: { root: 24, path: 24 } });
    expect(snapshot.entryCount).toBe(1);
    const wide = await encodeFilterSnapshot(pair, { fpr: 1e-2, bits });
    expect(wide.entryCount).toBe(2);
    const decoded = decodeFilterSnapshot(wide.payload);
    if (!decoded.ok) throw new Error(decoded.error.message);
    expect(decoded.value.keys.root.tails).toHaveLength(2);
    expect(TAIL_ANY).toBeGreaterThan(2 ** 11);
  });

  it('never lets a root and a path expression share a checksum slot', async () => {
    // Same keys, other classes: the root key count in the checksum tells the states apart.
    const a = await encodeFilterSnapshot(['a.example/', 'b.example/x'], {
      fpr: 1e-2,
      bits: { root: 40, path: 40 },
    });
    const b = await encodeFilterSnapshot(['a.example/', 'b.example/'], {
      fpr: 1e-2,
      bits: { root: 40, path: 40 },
    });
    expect(a.checksum).not.toBe(b.checksum);
  });

  it('refuses bad options and non-ASCII expressions with named errors', async () => {
    await expect(encodeFilterSnapshot(members, { fpr: 0 })).rejects.toThrow(RangeError);
    await expect(encodeFilterSnapshot(members, { fpr: 1e-2, bits: { root: 40, path: 65 } })).rejects.toThrow(
      RangeError,
    );
    await expect(encodeFilterSnapshot(members, { fpr: 1e-2, bits: { root: 23, path: 40 } })).rejects.toThrow(
      RangeError,
    );
    await expect(encodeFilterSnapshot(['bücher.example/'], { fpr: 1e-2 })).rejects.toThrow(
      NonAsciiExpressionError,
    );
  });
});

describe('encodeFilterDelta', () => {
  const bits = { root: 40, path: 58 };
  const before = ['old.example/', 'old.example/y?z=1', 'kept.example/', 'kept.example/k'];

  it('carries the added keys with tails and extensions and the removed keys as indexes, per class', () => {
    const payload = filterDeltaFrom(
      before,
      ['new.example/', 'other.example/x', 'third.example/'],
      ['old.example/', 'old.example/y?z=1'],
      bits,
    );
    expect(new TextDecoder().decode(payload.subarray(0, 4))).toBe('TDFD');
    expect([...payload.subarray(4, 8)]).toEqual([FILTER_FORMAT_VERSION, 40, 58, EXTENSION_BITS]);
    const delta = decodeFilterDelta(payload);
    if (!delta.ok) throw new Error(delta.error.message);
    expect(delta.value.bits).toEqual(bits);
    expect([...delta.value.added.root.keys]).toEqual(
      [keyOf('new.example/', 40), keyOf('third.example/', 40)].sort((a, b) => a - b),
    );
    const other = hashOf('other.example/x');
    expect([...delta.value.added.path.keys]).toEqual([confirmationKey(other, 58)]);
    expect([...delta.value.added.path.tails]).toEqual([keyTail(other, 58)]);
    expect([...delta.value.added.path.extensions]).toEqual([keyExtension(other)]);
    // Indexes in the key sets before the delta.
    const previous = keysOf(before, bits);
    expect([...delta.value.removedRanks.root]).toEqual([previous.root.indexOf(keyOf('old.example/', 40))]);
    expect([...delta.value.removedRanks.path]).toEqual([
      previous.path.indexOf(keyOf('old.example/y?z=1', 58)),
    ]);
  });

  it('drops a key that is both added and removed, and encodes an empty delta', () => {
    const widths = { root: 30, path: 30 };
    const delta = decodeFilterDelta(
      encodeFilterDelta(
        ['a.example/', 'b.example/', 'c.example/p'],
        ['b.example/', 'c.example/p'],
        widths,
        keysOf(['a.example/'], widths),
      ),
    );
    if (!delta.ok) throw new Error(delta.error.message);
    expect([...delta.value.added.root.keys]).toEqual([keyOf('a.example/', 30)]);
    expect(delta.value.added.path.keys.length + delta.value.removedRanks.root.length).toBe(0);
    expect(delta.value.removedRanks.path.length).toBe(0);
    const empty = decodeFilterDelta(filterDeltaFrom([], [], [], { root: 53, path: 24 }));
    if (!empty.ok) throw new Error(empty.error.message);
    const { added, removedRanks } = empty.value;
    expect(
      added.root.keys.length + added.path.keys.length + removedRanks.root.length + removedRanks.path.length,
    ).toBe(0);
  });

  it('refuses a width outside 24..64 and key sets that still hold a removed key', () => {
    const none = { root: new Float64Array(0), path: new Float64Array(0) };
    expect(() => encodeFilterDelta([], [], { root: 23, path: 30 }, none)).toThrow(RangeError);
    expect(() => encodeFilterDelta([], [], { root: 30, path: 65 }, none)).toThrow(RangeError);
    const held = keysOf(['a.example/'], { root: 30, path: 30 });
    expect(() => encodeFilterDelta([], ['a.example/'], { root: 30, path: 30 }, held)).toThrow(RangeError);
  });
});

describe('decoding corrupted payloads', () => {
  const code = (result: { ok: boolean; error?: { code: string } }) => (result.ok ? 'ok' : result.error?.code);

  it('fails on every truncation of a snapshot and of a delta', async () => {
    const { payload } = await encodeFilterSnapshot(mixed.slice(1475, 1525), { fpr: 1e-2 });
    for (let length = 0; length < payload.length; length++) {
      expect(decodeFilterSnapshot(payload.subarray(0, length)).ok).toBe(false);
    }
    const delta = filterDeltaFrom(mixed.slice(1505, 1530), mixed.slice(1495, 1505), mixed.slice(1505, 1510), {
      root: 30,
      path: 60,
    });
    for (let length = 0; length < delta.length; length++) {
      expect(decodeFilterDelta(delta.subarray(0, length)).ok).toBe(false);
    }
  });

  it('names what is wrong in a snapshot header', async () => {
    const { payload } = await encodeFilterSnapshot(mixed.slice(1450, 1550), { fpr: 1e-2 });
    const patched = (offset: number, bytes: number[]) => {
      const copy = payload.slice();
      copy.set(bytes, offset);
      return decodeFilterSnapshot(copy);
    };
    expect(code(patched(0, [0x58]))).toBe('filter_malformed');
    expect(code(patched(4, [2]))).toBe('filter_unsupported');
    expect(code(patched(8, [12]))).toBe('filter_unsupported');
    expect(code(patched(5, [23]))).toBe('filter_malformed');
    expect(code(patched(6, [65]))).toBe('filter_malformed');
    expect(code(patched(5, [(payload[5] as number) - 1]))).toBe('filter_malformed');
    expect(code(patched(7, [0]))).toBe('bloom_malformed');
    expect(code(patched(9, [1]))).toBe('filter_malformed');
    expect(code(patched(12, [0xff, 0, 0, 0]))).toBe('filter_malformed');
    expect(code(patched(24, [0, 0, 0, 1]))).toBe('filter_malformed');
    expect(code(patched(28, [0xff, 0, 0, 0]))).toBe('filter_truncated');
    expect(code(patched(28, [0, 0, 0, 1]))).not.toBe('ok');
    expect(code(decodeFilterDelta(payload))).toBe('filter_malformed');
    expect(filterSnapshotWidths(payload.subarray(0, 39))).toBeUndefined();
    expect(
      filterSnapshotWidths(Uint8Array.of(...payload.subarray(0, 4), 2, ...payload.subarray(5))),
    ).toBeUndefined();
  });

  it('refuses a delta that disagrees with its header', () => {
    const payload = filterDeltaFrom(['b.example/'], ['a.example/'], ['b.example/'], { root: 30, path: 32 });
    for (const [offset, value, expected] of [
      [5, 31, 'filter_malformed'],
      [6, 30, 'filter_malformed'],
      [7, 1, 'filter_unsupported'],
    ] as const) {
      const bad = payload.slice();
      bad[offset] = value;
      expect(code(decodeFilterDelta(bad))).toBe(expected);
    }
    const long = payload.slice();
    new DataView(long.buffer).setUint32(16, 0xffff);
    expect(code(decodeFilterDelta(long))).toBe('filter_truncated');
    expect(code(decodeFilterSnapshot(payload))).toBe('filter_malformed');
  });

  it('never throws on flipped bytes', async () => {
    const { payload, bits } = await encodeFilterSnapshot(mixed.slice(1480, 1520), { fpr: 1e-2 });
    const delta = filterDeltaFrom(
      mixed.slice(1480, 1520),
      mixed.slice(1470, 1480),
      mixed.slice(1480, 1490),
      bits,
    );
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
