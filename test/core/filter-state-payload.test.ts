import { describe, expect, it } from 'vitest';
import { confirmationKey } from '../../src/core/confirm.ts';
import { lookupExpressions } from '../../src/core/expressions.ts';
import { SAMPLE_EVERY } from '../../src/core/filter-coded-keys.ts';
import { indexOfKey } from '../../src/core/filter-keys.ts';
import { decodeFilterSnapshot, encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { FilterState } from '../../src/core/filter-state.ts';
import { hashExpression } from '../../src/core/hash.ts';
import { canonicalizeUrl } from '../../src/core/url.ts';
import { applied, filterDeltaFrom } from '../helpers/filter-delta.ts';
import { fixtureLines as lines, value } from '../helpers/results.ts';

const canonical = lines('canonicalization/phishing-links-sample-2000.txt').flatMap((u) => {
  const c = canonicalizeUrl(u);
  return c.ok ? [c.value] : [];
});
/** Every lookup expression of the real URLs: members and non-members are drawn from them. */
const expressions = [...new Set(canonical.flatMap((url) => lookupExpressions(url)))];

/** A seeded shuffle. */
function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Whether the state answers every expression and URL as membership in `held` says, and checks out. */
async function expectAnswersOf(state: FilterState, held: readonly string[]) {
  const set = new Set(held);
  const wrong = expressions.filter((e) => state.isBlocked([e]) !== set.has(e));
  expect(wrong).toEqual([]);
  const wrongUrls = canonical.filter(
    (url) => state.isUrlBlocked(url) !== lookupExpressions(url).some((e) => set.has(e)),
  );
  expect(wrongUrls.map((u) => u.host + u.path)).toEqual([]);
  const reference = await encodeFilterSnapshot(held, { fpr: 1 / 32, bits: state.bits });
  expect(state.entryCount).toBe(reference.entryCount);
  expect(await state.checksum()).toBe(reference.checksum);
}

describe('a FilterState over its snapshot payload', () => {
  const members = shuffled(expressions, 7).slice(0, Math.floor(expressions.length / 2));

  it('holds more keys than one index sample, and answers every key as the decoded snapshot does', async () => {
    const snapshot = await encodeFilterSnapshot(members, { fpr: 1 / 32 });
    const state = value(FilterState.fromSnapshot(snapshot.payload));
    const decoded = value(decodeFilterSnapshot(snapshot.payload));
    expect(decoded.keys.root.keys.length).toBeGreaterThan(10 * SAMPLE_EVERY);
    expect(decoded.keys.path.keys.length).toBeGreaterThan(10 * SAMPLE_EVERY);
    for (const cls of ['root', 'path'] as const) {
      const keys = decoded.keys[cls].keys;
      // Every held key, and its neighbours (one apart: never held, searched inside the same run of gaps).
      for (const key of keys) {
        expect(state.hasKey(cls, key)).toBe(true);
        expect(state.hasKey(cls, key + 1)).toBe(indexOfKey(keys, key + 1) >= 0);
        expect(state.hasKey(cls, key - 1)).toBe(indexOfKey(keys, key - 1) >= 0);
      }
      expect(state.hasKey(cls, 0)).toBe(keys[0] === 0);
      expect(state.hasKey(cls, 2 ** 53 - 1)).toBe(false);
    }
    await expectAnswersOf(state, members);
  });

  it('answers real URLs through deltas that remove added keys and add removed snapshot keys back', async () => {
    const others = expressions.filter((e) => !members.includes(e));
    const snapshot = await encodeFilterSnapshot(members, { fpr: 1 / 32 });
    let state = value(FilterState.fromSnapshot(snapshot.payload));
    let held: string[] = members;
    const removedBefore: string[] = [];
    for (let round = 0; round < 6; round++) {
      const shuffledHeld = shuffled(held, 100 + round);
      // Removals of snapshot keys and of keys earlier deltas added, spread over the whole key range.
      const removed = shuffledHeld.slice(0, 150);
      // New expressions, and snapshot expressions removed in an earlier round coming back.
      const added = [...others.slice(round * 120, (round + 1) * 120), ...removedBefore.splice(0, 60)];
      const previous = state;
      state = value(state.applyDelta(filterDeltaFrom(held, added, removed, snapshot.bits)));
      expect(previous.entryCount).toBe(new Set(held.map(keyOf(snapshot.bits))).size);
      held = applied(held, added, removed);
      removedBefore.push(...removed);
      await expectAnswersOf(state, held);
    }
  });

  it('refuses a delta whose ranks run past the key set or that adds a key it holds', async () => {
    const snapshot = await encodeFilterSnapshot(members, { fpr: 1 / 32 });
    const state = value(FilterState.fromSnapshot(snapshot.payload));
    const extra = expressions.filter((e) => !members.includes(e)).slice(0, 10);
    const delta = filterDeltaFrom(members, extra, members.slice(0, 5), snapshot.bits);
    const once = value(state.applyDelta(delta));
    const twice = once.applyDelta(delta);
    expect(twice.ok ? 'ok' : twice.error.code).toBe('resync_required');
  });

  it('refuses a payload whose coded keys are corrupt when it is built, never throws', async () => {
    const snapshot = await encodeFilterSnapshot(members, { fpr: 1 / 32 });
    const bloomBytes = new DataView(snapshot.payload.buffer).getUint32(24);
    const headsStart = 40 + bloomBytes + 14;
    let refused = 0;
    for (let at = headsStart; at < snapshot.payload.length; at += 97) {
      const copy = snapshot.payload.slice();
      copy[at] = (copy[at] as number) ^ 0x10;
      const state = FilterState.fromSnapshot(copy);
      if (!state.ok) {
        expect(state.error.code).toMatch(/^(rice|filter)_/);
        refused++;
      } else {
        // A flip that still decodes (a tail, or a gap traded for another) changes the checksum or nothing held.
        const changed = (await state.value.checksum()) !== snapshot.checksum;
        const answers = members.filter((e) => state.value.isBlocked([e])).length;
        expect(changed || answers < members.length).toBe(true);
      }
    }
    expect(refused).toBeGreaterThan(0);
    const cut = FilterState.fromSnapshot(snapshot.payload.subarray(0, snapshot.payload.length - 3));
    expect(cut.ok).toBe(false);
  });
});

/** The key head of an expression at the snapshot's widths, as a string naming its class. */
function keyOf(bits: { root: number; path: number }) {
  const hash = new Uint32Array(4);
  return (expression: string) => {
    hashExpression(expression, hash);
    const root = expression.endsWith('/') && expression.indexOf('/') === expression.length - 1;
    return `${root ? 'r' : 'p'}${confirmationKey(hash, root ? bits.root : bits.path)}`;
  };
}
