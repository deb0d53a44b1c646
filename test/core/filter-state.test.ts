import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  confirmationKey,
  FALSE_BLOCK_TARGET,
  insertCapacity,
  isRootExpression,
  type KeyWidths,
} from '../../src/core/confirm.ts';
import { encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { FilterState, LeanFilterStateError } from '../../src/core/filter-state.ts';
import { hashExpression } from '../../src/core/hash.ts';
import { applied, filterDeltaFrom } from '../helpers/filter-delta.ts';
import { value } from '../helpers/results.ts';

const members = readFileSync(new URL('../fixtures/filter/malware-domains.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((name) => `${name}/`);
/** Domains (root expressions) and URLs on other domains (path expressions). */
const initial = [...members.slice(0, 800), ...members.slice(800, 1000).map((e) => `${e}phish/login.php`)];
const outsiders = [...members.slice(1000, 1080), ...members.slice(1080, 1100).map((e) => `${e}x?y=1`)];
/** Changes that touch both classes. */
const gone = [...initial.slice(0, 5), ...initial.slice(800, 805)];
const come = [...outsiders.slice(0, 5), ...outsiders.slice(80, 85)];

function keyOf(expression: string, bits: KeyWidths): number {
  const hash = new Uint32Array(4);
  hashExpression(expression, hash);
  return confirmationKey(hash, isRootExpression(expression) ? bits.root : bits.path);
}

const snapshot = await encodeFilterSnapshot(initial, { fpr: 1 / 32 });
const delta = filterDeltaFrom(initial, come, gone, snapshot.bits);
const afterDelta = applied(initial, come, gone);

describe('FilterState from a snapshot', () => {
  const state = value(FilterState.fromSnapshot(snapshot.payload));

  it('blocks every member and only members', () => {
    expect(initial.filter((e) => !state.isBlocked([e]))).toEqual([]);
    expect(outsiders.filter((e) => state.isBlocked([e]))).toEqual([]);
    expect(state.isBlocked([])).toBe(false);
    expect(state.isBlocked(['nothing.example/', 'evil.example/a', initial[42] as string])).toBe(true);
    expect(state.isBlocked(['nothing.example/', initial[900] as string])).toBe(true);
  });

  it('announces what the snapshot announced', async () => {
    expect(state.entryCount).toBe(snapshot.entryCount);
    expect(state.bits).toEqual(snapshot.bits);
    expect(state.lean).toBe(false);
    expect(await state.checksum()).toBe(snapshot.checksum);
  });

  it('lists the distinct keys that match per class, and looks keys up', () => {
    const [a, b] = initial as [string, string];
    const u = initial[850] as string;
    expect(state.matchingKeys([a, 'nothing.example/', b, u, a, u])).toEqual({
      root: [keyOf(a, state.bits), keyOf(b, state.bits)],
      path: [keyOf(u, state.bits)],
    });
    expect(state.hasKey('root', keyOf(a, state.bits))).toBe(true);
    expect(state.hasKey('path', keyOf(u, state.bits))).toBe(true);
    expect(state.hasKey('root', keyOf('nothing.example/', state.bits))).toBe(false);
  });

  it('fails on a payload that is not a snapshot', () => {
    const result = FilterState.fromSnapshot(delta);
    expect(result.ok).toBe(false);
  });
});

describe('FilterState.applyDelta', () => {
  const state = value(FilterState.fromSnapshot(snapshot.payload));
  const next = value(state.applyDelta(delta));

  it('blocks added expressions and stops blocking removed ones though the Bloom filter still has them', () => {
    expect(come.every((e) => next.isBlocked([e]))).toBe(true);
    expect(gone.some((e) => next.isBlocked([e]))).toBe(false);
    expect(initial.filter((e) => !gone.includes(e)).every((e) => next.isBlocked([e]))).toBe(true);
    expect(outsiders.filter((e) => !come.includes(e)).some((e) => next.isBlocked([e]))).toBe(false);
  });

  it('reaches the checksum of a snapshot of the new set', async () => {
    const expected = await encodeFilterSnapshot(afterDelta, {
      fpr: 1 / 32,
      bits: snapshot.bits,
    });
    expect(next.entryCount).toBe(expected.entryCount);
    expect(await next.checksum()).toBe(expected.checksum);
  });

  it('returns a new state and leaves the old one as it was', async () => {
    expect(next).not.toBe(state);
    expect(state.isBlocked([initial[0] as string])).toBe(true);
    expect(state.isBlocked([outsiders[0] as string])).toBe(false);
    expect(await state.checksum()).toBe(snapshot.checksum);
  });

  it('applies deltas in sequence, including a removal undone later', async () => {
    const back = value(next.applyDelta(filterDeltaFrom(afterDelta, gone, come, state.bits)));
    expect(initial.every((e) => back.isBlocked([e]))).toBe(true);
    expect(outsiders.some((e) => back.isBlocked([e]))).toBe(false);
    expect(await back.checksum()).toBe(snapshot.checksum);
  });

  it('refuses a delta made for another state (applied twice) and asks for a resync', () => {
    const twice = next.applyDelta(delta);
    expect(twice.ok || twice.error.code).toBe('resync_required');
  });

  it('confirms a key only in the class of the expression', () => {
    const root = 'x.example/';
    const path = 'x.example/a';
    const straight = value(state.applyDelta(filterDeltaFrom(initial, [root], [], state.bits)));
    expect(straight.isBlocked([root])).toBe(true);
    expect(straight.isBlocked([path])).toBe(false);
  });

  it('keeps the false-block bound at every version and refuses deltas past the insert capacity', () => {
    expect(state.falseBlockBound).toBeLessThan(FALSE_BLOCK_TARGET);
    let current = state;
    let held = initial;
    const fresh = (round: number) => Array.from({ length: 2000 }, (_, i) => `added-${round}-${i}.example/`);
    let round = 0;
    // Each delta adds 2 000 keys to the Bloom filter (and removes some): the filter fills up, the bound holds.
    for (; round * 2000 <= insertCapacity(initial.length) - initial.length - 2000; round++) {
      const removed = held.slice(0, 100);
      const result = current.applyDelta(filterDeltaFrom(held, fresh(round), removed, state.bits));
      current = value(result);
      held = applied(held, fresh(round), removed);
      expect(current.falseBlockBound).toBeLessThan(FALSE_BLOCK_TARGET);
      expect(fresh(round).every((e) => current.isBlocked([e]))).toBe(true);
    }
    expect(current.bloomFpr).toBeGreaterThan(state.bloomFpr);
    const past = current.applyDelta(filterDeltaFrom(held, fresh(round), [], state.bits));
    expect(past.ok || past.error.code).toBe('resync_required');
  });

  it('asks for a resync when a key width differs', () => {
    for (const bits of [
      { ...state.bits, root: state.bits.root + 1 },
      { ...state.bits, path: state.bits.path - 1 },
    ]) {
      const result = state.applyDelta(filterDeltaFrom(initial, ['x.example/'], [], bits));
      expect(result.ok || result.error.code).toBe('resync_required');
    }
  });

  it('passes a malformed delta on as a failure', () => {
    const result = state.applyDelta(delta.subarray(0, delta.length - 1));
    expect(result.ok).toBe(false);
    expect(state.applyDelta(snapshot.payload).ok).toBe(false);
  });
});

describe('a lean FilterState', () => {
  const lean = value(FilterState.fromSnapshot(snapshot.payload, { lean: true }));
  const next = value(lean.applyDelta(delta));

  it('answers like the full state, with hits as candidates: removed keys stay candidates for the hub', () => {
    expect(lean.lean).toBe(true);
    expect(initial.every((e) => lean.isBlocked([e]))).toBe(true);
    expect(come.every((e) => next.isBlocked([e]))).toBe(true);
    expect(gone.every((e) => next.isBlocked([e]))).toBe(true);
    expect(outsiders.filter((e) => !come.includes(e)).some((e) => next.isBlocked([e]))).toBe(false);
  });

  it('counts entries from the deltas and lists candidate keys for the hub', () => {
    expect(lean.entryCount).toBe(snapshot.entryCount);
    expect(next.entryCount).toBe(snapshot.entryCount);
    const [root, path] = [come[0] as string, come[5] as string];
    expect(next.matchingKeys([root, path, 'nothing.example/'])).toEqual({
      root: [keyOf(root, lean.bits)],
      path: [keyOf(path, lean.bits)],
    });
  });

  it('refuses what needs the key set with a named error', async () => {
    await expect(lean.checksum()).rejects.toThrow(LeanFilterStateError);
    expect(() => lean.hasKey('root', 1)).toThrow(LeanFilterStateError);
  });
});
