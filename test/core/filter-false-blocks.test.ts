/**
 * False blocks measured, not only bounded: random non-member hashes against states reached through deltas. A
 * random 128-bit word stands for the MurmurHash3 of a non-member expression (the lookup after hashing is
 * `FilterState.matchesHash`), which lets 10^8 of them run in seconds; a million real expression strings check
 * the same through `isBlocked`. Counts, never timings, are asserted.
 */
import { describe, expect, it } from 'vitest';
import { FALSE_BLOCK_TARGET, falseBlockChance } from '../../src/core/confirm.ts';
import { encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { FilterState } from '../../src/core/filter-state.ts';
import { applied, filterDeltaFrom } from '../helpers/filter-delta.ts';
import { value } from '../helpers/results.ts';

/** xorshift128: a seeded stream of 32-bit words. */
function words(seed: number): () => number {
  let [a, b, c, d] = [seed >>> 0, 0x9e3779b9, 0x85ebca6b, 0xc2b2ae35];
  return () => {
    const t = a ^ (a << 11);
    a = b;
    b = c;
    c = d;
    d = (d ^ (d >>> 19) ^ t ^ (t >>> 8)) >>> 0;
    return d;
  };
}

/** Expressions of both classes: one path expression in eight. */
const members = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) =>
    i % 8 === 7 ? `${prefix}${i}.example/p/${i}` : `${prefix}${i}.example/`,
  );

/** A snapshot of `initial`, then `rounds` deltas each adding `adds` expressions and removing `removes`. */
async function throughDeltas(
  initial: string[],
  rounds: number,
  adds: number,
  removes: number,
  options: { fpr: number; bits?: { root: number; path: number } },
) {
  const snapshot = await encodeFilterSnapshot(initial, options);
  let state = value(FilterState.fromSnapshot(snapshot.payload));
  let held = initial;
  for (let round = 0; round < rounds; round++) {
    const added = members(`d${round}-`, adds);
    const removed = held.slice(round * removes, (round + 1) * removes);
    state = value(state.applyDelta(filterDeltaFrom(held, added, removed, snapshot.bits)));
    held = applied(held, added, removed);
  }
  return { state, held, snapshot };
}

/** Random hashes that `state` blocks, out of `count`, for expressions of class root (7 in 8) or path. */
function falseHits(state: FilterState, count: number, seed: number) {
  const next = words(seed);
  const hash = new Uint32Array(4);
  const hits = { root: 0, path: 0 };
  for (let i = 0; i < count; i++) {
    hash[0] = next();
    hash[1] = next();
    hash[2] = next();
    hash[3] = next();
    const root = (i & 7) !== 7;
    if (state.matchesHash(hash, root)) hits[root ? 'root' : 'path']++;
  }
  return hits;
}

describe('false blocks of a state reached through deltas', () => {
  it('blocks none of 10^8 random non-member expressions at the 1e-12 bound, keys added by deltas included', async () => {
    const { state, held } = await throughDeltas(members('m', 200_000), 5, 2_000, 1_000, { fpr: 1 / 32 });
    expect(state.entryCount).toBe(200_000 + 5 * (2_000 - 1_000));
    expect(state.falseBlockBound).toBeLessThan(FALSE_BLOCK_TARGET);
    // Every member answers, those the deltas added as well.
    expect(held.filter((_, i) => i % 97 === 0).every((e) => state.isBlocked([e]))).toBe(true);
    expect(falseHits(state, 100_000_000, 17)).toEqual({ root: 0, path: 0 });
    // And a million real expression strings, hashed as lookups hash them.
    let blocked = 0;
    for (let i = 0; i < 1_000_000; i++)
      if (state.isBlocked([`other${i}.example/`, `m${i}.example/x/${i}`])) blocked++;
    expect(blocked).toBe(0);
  }, 900_000);

  it('blocks non-members at the rate the bound predicts when widths are forced narrow, added keys included', async () => {
    // 24-bit keys make false blocks common enough to count: each needs a key match (n / 2^24) AND a pass given
    // that match: of the snapshot's Bloom filter for a snapshot key (its rate f, or an equal extension, 2^-8),
    // of the exact extension for a key a delta added (2^-8). Half the keys come by deltas.
    const { state, snapshot } = await throughDeltas(members('w', 10_000), 5, 2_000, 0, {
      fpr: 0.05,
      bits: { root: 24, path: 24 },
    });
    const first = value(FilterState.fromSnapshot(snapshot.payload));
    expect(state.entryCount).toBeGreaterThan(19_900);
    const samples = 20_000_000;
    const hits = falseHits(state, samples, 5);
    // falseBlockChance counts 5 root and 25 path expressions per URL; one expression of a class is its term / 5
    // or / 25, which is what the bound says of a single root or path key match.
    const one = (root: number, path: number, f: number) =>
      falseBlockChance({ root, path }, f, state.bits) / (root > 0 ? 5 : 25);
    const added = {
      root: state.counts.root - first.counts.root,
      path: state.counts.path - first.counts.path,
    };
    const root = one(first.counts.root, 0, first.bloomFpr) + one(added.root, 0, 0);
    const path = one(0, first.counts.path, first.bloomFpr) + one(0, added.path, 0);
    const expected = { root: (root * samples * 7) / 8, path: (path * samples) / 8 };
    expect(hits.root).toBeGreaterThan(expected.root * 0.85);
    expect(hits.root).toBeLessThan(expected.root * 1.15);
    expect(hits.path).toBeGreaterThan(expected.path * 0.6);
    expect(hits.path).toBeLessThan(expected.path * 1.4);
    // Under what the bound assumes (every key behind the filter at the rate of all elements).
    const bound = falseBlockChance({ root: state.counts.root, path: 0 }, state.bloomFpr, state.bits) / 5;
    expect(hits.root).toBeLessThan((bound * samples * 7) / 8);
  }, 300_000);
});
