import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFilterDelta, encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { FilterState } from '../../src/core/filter-state.ts';
import { FilterMirror, MirrorDivergedError, wideKey, wideKeysOf } from '../../src/feeds/filter-mirror.ts';

const BITS = 24;
const narrow = (expression: string) => Math.floor(wideKey(expression) / 2 ** (53 - BITS));

/** Expressions that share a 24-bit key pairwise (found by the birthday bound), plus plain ones. */
function universe(): string[] {
  const seen = new Map<number, string>();
  const colliding: string[] = [];
  for (let i = 0; colliding.length < 8; i++) {
    const expression = `host-${i}.example/`;
    const other = seen.get(narrow(expression));
    if (other) colliding.push(other, expression);
    else seen.set(narrow(expression), expression);
  }
  const plain = Array.from({ length: 24 }, (_, i) => `plain-${i}.example/path-${i}`);
  return [...colliding, ...plain];
}

const UNIVERSE = universe();

async function stateOf(expressions: string[], bits: number): Promise<FilterState> {
  const snapshot = await encodeFilterSnapshot(expressions, { fpr: 0.01, bits });
  const state = FilterState.fromSnapshot(snapshot.payload);
  if (!state.ok) throw new Error(state.error.message);
  return state.value;
}

describe('FilterMirror', () => {
  it('the test universe really holds expressions that share a narrow key but not a wide one', () => {
    expect(narrow(UNIVERSE[0] as string)).toBe(narrow(UNIVERSE[1] as string));
    expect(wideKey(UNIVERSE[0] as string)).not.toBe(wideKey(UNIVERSE[1] as string));
  });

  it('advancing with net changes gives the mirror of the new set', () => {
    fc.assert(
      fc.property(fc.subarray(UNIVERSE), fc.subarray(UNIVERSE), (a, b) => {
        const added = b.filter((e) => !a.includes(e));
        const removed = a.filter((e) => !b.includes(e));
        const advanced = FilterMirror.fromWideKeys(wideKeysOf(a)).apply(added, removed);
        expect([...advanced.wide]).toEqual([...wideKeysOf(b)]);
      }),
    );
  });

  it('a delta of its key changes takes a consumer from A to B, landing on the checksum it announces', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(UNIVERSE),
        fc.subarray(UNIVERSE),
        fc.constantFrom(24, 30, 53),
        async (a, b, bits) => {
          const added = b.filter((e) => !a.includes(e));
          const removed = a.filter((e) => !b.includes(e));
          const mirror = FilterMirror.fromWideKeys(wideKeysOf(b));
          const changes = mirror.keyChanges(added, removed, bits);
          const next = (await stateOf(a, bits)).applyDelta(
            encodeFilterDelta(changes.added, changes.removed, bits),
          );
          if (!next.ok) throw new Error(next.error.message);
          const summary = await mirror.summary(bits);
          const direct = await encodeFilterSnapshot(b, { fpr: 0.01, bits });
          expect(summary).toEqual({ entryCount: direct.entryCount, checksum: direct.checksum });
          expect(await next.value.checksum()).toBe(summary.checksum);
          expect(next.value.entryCount).toBe(summary.entryCount);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('drops a removal whose key another expression still holds, and an addition of a key already held', () => {
    const [x, y] = UNIVERSE as [string, string];
    const both = FilterMirror.fromWideKeys(wideKeysOf([x, y]));
    expect(both.keyChanges([y], [], BITS)).toEqual({ added: [], removed: [] });
    const onlyY = FilterMirror.fromWideKeys(wideKeysOf([y]));
    expect(onlyY.keyChanges([], [x], BITS)).toEqual({ added: [], removed: [] });
    expect(onlyY.keyChanges([], [x], 53)).toEqual({ added: [], removed: [x] });
    expect(FilterMirror.fromWideKeys(wideKeysOf([])).keyChanges([], [x, y], BITS)).toEqual({
      added: [],
      removed: [x, y],
    });
  });

  it('refuses to remove what it does not hold', () => {
    const mirror = FilterMirror.fromWideKeys(wideKeysOf(['a.example/']));
    expect(() => mirror.apply([], ['b.example/'])).toThrow(MirrorDivergedError);
    expect(() => mirror.apply([], ['a.example/', 'a.example/'])).toThrow(MirrorDivergedError);
  });
});
