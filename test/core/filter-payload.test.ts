import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex, toHex } from '../../src/core/bytes.ts';
import {
  confirmationKey,
  confirmationWidths,
  isRootExpression,
  type KeyWidths,
} from '../../src/core/confirm.ts';
import {
  decodeFilterDelta,
  decodeFilterSnapshot,
  encodeFilterDelta,
  encodeFilterSnapshot,
  FILTER_FORMAT_VERSION,
  filterSnapshotWidths,
} from '../../src/core/filter-payload.ts';
import { hashExpression, NonAsciiExpressionError } from '../../src/core/hash.ts';

const members = readFileSync(new URL('../fixtures/filter/malware-domains.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((name) => `${name}/`);

/** Domains as root expressions, and URL expressions on the same names: both key classes. */
const mixed = [...members.slice(0, 1500), ...members.slice(1500).map((e) => `${e}login.php?id=1`)];

function keyOf(expression: string, bits: number): number {
  const hash = new Uint32Array(4);
  hashExpression(expression, hash);
  return confirmationKey(hash, bits);
}

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

describe('encodeFilterSnapshot', () => {
  it('writes the documented header, the raw Bloom filter and the Rice-coded keys of both classes', async () => {
    const snapshot = await encodeFilterSnapshot(mixed, { fpr: 1e-6 });
    const { payload } = snapshot;
    const view = new DataView(payload.buffer);
    expect(new TextDecoder().decode(payload.subarray(0, 4))).toBe('TDFS');
    expect(payload[4]).toBe(FILTER_FORMAT_VERSION);
    expect(payload[5]).toBe(snapshot.bits.root);
    expect(payload[6]).toBe(snapshot.bits.path);
    expect(payload[7]).toBe(20);
    expect(view.getUint32(8)).toBe(mixed.length);
    expect(view.getFloat64(16)).toBe(1e-6);
    expect(view.getUint32(24)).toBe(Math.ceil(view.getUint32(12) / 8));
    const rootKeysAt = 32 + view.getUint32(24);
    // Each key set is a Rice set (see rice.ts): its count, then its width.
    expect(new DataView(payload.buffer, rootKeysAt).getUint32(0)).toBe(1500);
    expect(payload[rootKeysAt + 4]).toBe(snapshot.bits.root);
    const pathKeysAt = rootKeysAt + view.getUint32(28);
    expect(new DataView(payload.buffer, pathKeysAt).getUint32(0)).toBe(mixed.length - 1500);
    expect(payload[pathKeysAt + 4]).toBe(snapshot.bits.path);
    expect(snapshot.entryCount).toBe(mixed.length);
    expect(snapshot.checksum).toBe(await expectedChecksum(mixed, snapshot.bits));
    expect(filterSnapshotWidths(payload)).toEqual(snapshot.bits);

    const decoded = decodeFilterSnapshot(payload);
    if (!decoded.ok) throw new Error(decoded.error.message);
    expect(decoded.value.bits).toEqual(snapshot.bits);
    expect(decoded.value.keys.root).toHaveLength(1500);
    expect(decoded.value.keys.path).toHaveLength(mixed.length - 1500);
    expect([...decoded.value.keys.root]).toEqual(
      [...new Set(mixed.slice(0, 1500).map((e) => classKeyOf(e, snapshot.bits)))].sort((a, b) => a - b),
    );
    expect(decoded.value.expressionCount).toBe(mixed.length);
    expect(mixed.every((e) => decoded.value.bloom.has(e))).toBe(true);
  });

  it('chooses the widths of confirmationWidths for its key counts', async () => {
    const domains = await encodeFilterSnapshot(members, { fpr: 1e-6 });
    expect(domains.bits).toEqual({ root: 34, path: 36 });
    const both = await encodeFilterSnapshot(mixed, { fpr: 1e-6 });
    expect(both.bits).toEqual(confirmationWidths({ root: 1500, path: mixed.length - 1500 }, 1e-6));
    const urls = await encodeFilterSnapshot(
      members.map((e) => `${e}x`),
      { fpr: 1e-4 },
    );
    expect(urls.bits).toEqual(confirmationWidths({ root: 0, path: members.length }, 1e-4));
  });

  it('does not change its bytes without a format version bump', async () => {
    const set = [...members.slice(0, 400), ...members.slice(400, 500).map((e) => `${e}login.php`)];
    const snapshot = await encodeFilterSnapshot(set, { fpr: 1e-6 });
    expect(snapshot.bits).toEqual({ root: 32, path: 33 });
    expect(snapshot.payload).toHaveLength(3442);
    expect(await sha256Hex(snapshot.payload)).toBe(
      'a1347dc8d7b9e395d0c297f34fc951dfad3e170ceb629173f1287e49fb8511de',
    );
    const delta = encodeFilterDelta(
      [...members.slice(500, 600), 'x.example/a'],
      [...members.slice(0, 50), `${members[450]}login.php`],
      snapshot.bits,
    );
    expect(delta).toHaveLength(581);
    expect(await sha256Hex(delta)).toBe('c6e7ea799294923060c92eb6a693692c47beb62502fbd7522663eeb3fb06a622');
  });

  it('gives the same bytes whatever the order and repeats of the input', async () => {
    const sample = [...mixed.slice(0, 200), ...mixed.slice(-100)];
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

  it('encodes the empty set and a single expression of each class', async () => {
    for (const expressions of [[], ['example.com/'], ['example.com/a']]) {
      const snapshot = await encodeFilterSnapshot(expressions, { fpr: 1e-6 });
      expect(snapshot.entryCount).toBe(expressions.length);
      expect(snapshot.checksum).toBe(await expectedChecksum(expressions, snapshot.bits));
      const decoded = decodeFilterSnapshot(snapshot.payload);
      if (!decoded.ok) throw new Error(decoded.error.message);
      expect(decoded.value.keys.root.length + decoded.value.keys.path.length).toBe(expressions.length);
    }
  });

  it('keeps key widths it is given and counts shared keys once per class', async () => {
    const bits = { root: 24, path: 26 };
    const snapshot = await encodeFilterSnapshot(mixed, { fpr: 1e-6, bits });
    expect(snapshot.bits).toEqual(bits);
    expect(snapshot.entryCount).toBe(
      new Set(mixed.slice(0, 1500).map((e) => keyOf(e, 24))).size +
        new Set(mixed.slice(1500).map((e) => keyOf(e, 26))).size,
    );
    expect(snapshot.checksum).toBe(await expectedChecksum(mixed, bits));
  });

  it('never lets a root and a path expression share a checksum slot', async () => {
    // Same keys, other classes: the root key count in the checksum tells the states apart.
    const a = await encodeFilterSnapshot(['a.example/', 'b.example/x'], {
      fpr: 1e-6,
      bits: { root: 40, path: 40 },
    });
    const b = await encodeFilterSnapshot(['a.example/', 'b.example/'], {
      fpr: 1e-6,
      bits: { root: 40, path: 40 },
    });
    expect(a.checksum).not.toBe(b.checksum);
  });

  it('refuses bad options and non-ASCII expressions with named errors', async () => {
    await expect(encodeFilterSnapshot(members, { fpr: 0 })).rejects.toThrow(RangeError);
    await expect(encodeFilterSnapshot(members, { fpr: 1e-6, bits: { root: 40, path: 54 } })).rejects.toThrow(
      RangeError,
    );
    await expect(encodeFilterSnapshot(members, { fpr: 1e-6, bits: { root: 23, path: 40 } })).rejects.toThrow(
      RangeError,
    );
    await expect(encodeFilterSnapshot(['bücher.example/'], { fpr: 1e-6 })).rejects.toThrow(
      NonAsciiExpressionError,
    );
  });
});

describe('encodeFilterDelta', () => {
  const bits = { root: 40, path: 44 };

  it('carries the added and removed keys of each class at its width', () => {
    const payload = encodeFilterDelta(
      ['new.example/', 'other.example/x', 'third.example/'],
      ['old.example/', 'old.example/y?z=1'],
      bits,
    );
    expect(new TextDecoder().decode(payload.subarray(0, 4))).toBe('TDFD');
    expect([...payload.subarray(4, 8)]).toEqual([FILTER_FORMAT_VERSION, 40, 44, 0]);
    const delta = decodeFilterDelta(payload);
    if (!delta.ok) throw new Error(delta.error.message);
    expect(delta.value.bits).toEqual(bits);
    expect([...delta.value.added.root]).toEqual(
      [keyOf('new.example/', 40), keyOf('third.example/', 40)].sort((a, b) => a - b),
    );
    expect([...delta.value.added.path]).toEqual([keyOf('other.example/x', 44)]);
    expect([...delta.value.removed.root]).toEqual([keyOf('old.example/', 40)]);
    expect([...delta.value.removed.path]).toEqual([keyOf('old.example/y?z=1', 44)]);
  });

  it('drops a key that is both added and removed, and encodes an empty delta', () => {
    const widths = { root: 30, path: 30 };
    const delta = decodeFilterDelta(
      encodeFilterDelta(['a.example/', 'b.example/', 'c.example/p'], ['b.example/', 'c.example/p'], widths),
    );
    if (!delta.ok) throw new Error(delta.error.message);
    expect([...delta.value.added.root]).toEqual([keyOf('a.example/', 30)]);
    expect(delta.value.added.path.length + delta.value.removed.root.length).toBe(0);
    expect(delta.value.removed.path.length).toBe(0);
    const empty = decodeFilterDelta(encodeFilterDelta([], [], { root: 53, path: 24 }));
    if (!empty.ok) throw new Error(empty.error.message);
    const { added, removed } = empty.value;
    expect(added.root.length + added.path.length + removed.root.length + removed.path.length).toBe(0);
  });

  it('refuses a width outside 24..53', () => {
    expect(() => encodeFilterDelta([], [], { root: 23, path: 30 })).toThrow(RangeError);
    expect(() => encodeFilterDelta([], [], { root: 30, path: 54 })).toThrow(RangeError);
  });
});

describe('decoding corrupted payloads', () => {
  const code = (result: { ok: boolean; error?: { code: string } }) => (result.ok ? 'ok' : result.error?.code);

  it('fails on every truncation of a snapshot and of a delta', async () => {
    const { payload } = await encodeFilterSnapshot(mixed.slice(1475, 1525), { fpr: 1e-3 });
    for (let length = 0; length < payload.length; length++) {
      expect(decodeFilterSnapshot(payload.subarray(0, length)).ok).toBe(false);
    }
    const delta = encodeFilterDelta(mixed.slice(1495, 1505), mixed.slice(1505, 1510), { root: 30, path: 31 });
    for (let length = 0; length < delta.length; length++) {
      expect(decodeFilterDelta(delta.subarray(0, length)).ok).toBe(false);
    }
  });

  it('names what is wrong in a snapshot header', async () => {
    const { payload } = await encodeFilterSnapshot(mixed.slice(1450, 1550), { fpr: 1e-3 });
    const patched = (offset: number, bytes: number[]) => {
      const copy = payload.slice();
      copy.set(bytes, offset);
      return decodeFilterSnapshot(copy);
    };
    expect(code(patched(0, [0x58]))).toBe('filter_malformed');
    expect(code(patched(4, [1]))).toBe('filter_unsupported');
    expect(code(patched(5, [23]))).toBe('filter_malformed');
    expect(code(patched(6, [54]))).toBe('filter_malformed');
    expect(code(patched(5, [(payload[5] as number) + 1]))).toBe('filter_malformed');
    expect(code(patched(6, [(payload[6] as number) - 1]))).toBe('filter_malformed');
    expect(code(patched(7, [0]))).toBe('bloom_malformed');
    expect(code(patched(8, [0, 0, 0, 1]))).toBe('filter_malformed');
    expect(code(patched(16, [0x7f, 0xf8, 0, 0, 0, 0, 0, 0]))).toBe('filter_malformed');
    expect(code(patched(24, [0, 0, 0, 1]))).toBe('filter_malformed');
    expect(code(patched(28, [0xff, 0, 0, 0]))).toBe('filter_truncated');
    expect(code(patched(28, [0, 0, 0, 1]))).not.toBe('ok');
    expect(code(decodeFilterDelta(payload))).toBe('filter_malformed');
    expect(filterSnapshotWidths(payload.subarray(0, 31))).toBeUndefined();
    expect(
      filterSnapshotWidths(Uint8Array.of(...payload.subarray(0, 4), 1, ...payload.subarray(5))),
    ).toBeUndefined();
  });

  it('refuses a delta whose key sets overlap or disagree with its header', () => {
    const payload = encodeFilterDelta(['a.example/'], ['b.example/'], { root: 30, path: 32 });
    const view = new DataView(payload.buffer);
    const addedRoot = payload.subarray(20, 20 + view.getUint32(8));
    const afterRemovedRoot = 20 + view.getUint32(8) + view.getUint32(12);
    // The added root keys again in place of the removed ones.
    const overlapping = Uint8Array.of(
      ...payload.subarray(0, 20),
      ...addedRoot,
      ...addedRoot,
      ...payload.subarray(afterRemovedRoot),
    );
    new DataView(overlapping.buffer).setUint32(12, addedRoot.length);
    expect(code(decodeFilterDelta(overlapping))).toBe('filter_malformed');
    for (const [offset, value] of [
      [5, 31],
      [6, 30],
      [7, 1],
    ] as const) {
      const bad = payload.slice();
      bad[offset] = value;
      expect(code(decodeFilterDelta(bad))).toBe('filter_malformed');
    }
    const long = payload.slice();
    new DataView(long.buffer).setUint32(16, 0xffff);
    expect(code(decodeFilterDelta(long))).toBe('filter_truncated');
    expect(code(decodeFilterSnapshot(payload))).toBe('filter_malformed');
  });

  it('never throws on flipped bytes', async () => {
    const { payload, bits } = await encodeFilterSnapshot(mixed.slice(1480, 1520), { fpr: 1e-2 });
    const delta = encodeFilterDelta(mixed.slice(1470, 1480), mixed.slice(1480, 1490), bits);
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
