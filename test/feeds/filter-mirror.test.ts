import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KeyWidths } from '../../src/core/confirm.ts';
import { encodeFilterDelta, encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { FilterState } from '../../src/core/filter-state.ts';
import { FilterMirror, MirrorDivergedError, wideKey, wideKeysOf } from '../../src/feeds/filter-mirror.ts';

const BITS = { root: 24, path: 24 };
const narrow = (expression: string) => Math.floor(wideKey(expression) / 2 ** (53 - 24));

/** Expressions of one class that share a 24-bit key pairwise (found by the birthday bound). */
function colliding(make: (i: number) => string): string[] {
  const seen = new Map<number, string>();
  const found: string[] = [];
  for (let i = 0; found.length < 6; i++) {
    const expression = make(i);
    const other = seen.get(narrow(expression));
    if (other) found.push(other, expression);
    else seen.set(narrow(expression), expression);
  }
  return found;
}

/** Root and path expressions sharing narrow keys within their class, plus plain ones of both classes. */
function universe(): string[] {
  const plain = Array.from({ length: 20 }, (_, i) =>
    i % 2 ? `plain-${i}.example/path-${i}` : `plain-${i}.example/`,
  );
  return [...colliding((i) => `host-${i}.example/`), ...colliding((i) => `site.example/page-${i}`), ...plain];
}

const UNIVERSE = universe();

async function stateOf(expressions: string[], bits: KeyWidths): Promise<FilterState> {
  const snapshot = await encodeFilterSnapshot(expressions, { fpr: 0.01, bits });
  const state = FilterState.fromSnapshot(snapshot.payload);
  if (!state.ok) throw new Error(state.error.message);
  return state.value;
}

describe('FilterMirror', () => {
  it('the test universe really holds expressions that share a narrow key but not a wide one', () => {
    for (const i of [0, 6]) {
      expect(narrow(UNIVERSE[i] as string)).toBe(narrow(UNIVERSE[i + 1] as string));
      expect(wideKey(UNIVERSE[i] as string)).not.toBe(wideKey(UNIVERSE[i + 1] as string));
    }
    expect(UNIVERSE[6]).toMatch(/\/page-/);
  });

  it('keeps the wide keys of each class apart', () => {
    const mirror = FilterMirror.fromWideKeys(wideKeysOf(['a.example/', 'a.example/x', 'b.example/']));
    expect([...mirror.wide.root]).toEqual(
      [wideKey('a.example/'), wideKey('b.example/')].sort((x, y) => x - y),
    );
    expect([...mirror.wide.path]).toEqual([wideKey('a.example/x')]);
    expect(mirror.expressionCount).toBe(3);
  });

  it('advancing with net changes gives the mirror of the new set', () => {
    fc.assert(
      fc.property(fc.subarray(UNIVERSE), fc.subarray(UNIVERSE), (a, b) => {
        const added = b.filter((e) => !a.includes(e));
        const removed = a.filter((e) => !b.includes(e));
        const advanced = FilterMirror.fromWideKeys(wideKeysOf(a)).apply(added, removed);
        expect([...advanced.wide.root]).toEqual([...wideKeysOf(b).root]);
        expect([...advanced.wide.path]).toEqual([...wideKeysOf(b).path]);
      }),
    );
  });

  it('a delta of its key changes takes a consumer from A to B, landing on the checksum it announces', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(UNIVERSE),
        fc.subarray(UNIVERSE),
        fc.constantFrom<KeyWidths>({ root: 24, path: 24 }, { root: 30, path: 24 }, { root: 24, path: 53 }),
        async (a, b, bits) => {
          const added = b.filter((e) => !a.includes(e));
          const removed = a.filter((e) => !b.includes(e));
          const mirror = FilterMirror.fromWideKeys(wideKeysOf(b));
          const changes = mirror.keyChanges(added, removed, bits);
          const next = (await stateOf(a, bits)).applyDelta(
            encodeFilterDelta(changes.added, changes.removed, bits, mirror.keys(bits)),
          );
          // Widths this narrow break the false-block bound once keys of the other class come: a consumer then
          // asks for a snapshot, which is not what this property is about.
          fc.pre(next.ok || !next.error.message.includes('false-block bound'));
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
    for (const i of [0, 6]) {
      const [x, y] = UNIVERSE.slice(i, i + 2) as [string, string];
      const both = FilterMirror.fromWideKeys(wideKeysOf([x, y]));
      expect(both.keyChanges([y], [], BITS)).toEqual({ added: [], removed: [] });
      const onlyY = FilterMirror.fromWideKeys(wideKeysOf([y]));
      expect(onlyY.keyChanges([], [x], BITS)).toEqual({ added: [], removed: [] });
      expect(onlyY.keyChanges([], [x], { root: 53, path: 53 })).toEqual({ added: [], removed: [x] });
      expect(FilterMirror.fromWideKeys(wideKeysOf([])).keyChanges([], [x, y], BITS)).toEqual({
        added: [],
        removed: [x, y],
      });
    }
    // Its class's width decides: a root pair at 53-bit root keys no longer shares a key.
    const [x, y] = UNIVERSE as [string, string];
    const onlyY = FilterMirror.fromWideKeys(wideKeysOf([y]));
    expect(onlyY.keyChanges([], [x], { root: 53, path: 24 })).toEqual({ added: [], removed: [x] });
    expect(onlyY.keyChanges([], [x], { root: 24, path: 53 })).toEqual({ added: [], removed: [] });
  });

  it('refuses to remove what it does not hold', () => {
    const mirror = FilterMirror.fromWideKeys(wideKeysOf(['a.example/', 'a.example/x']));
    expect(() => mirror.apply([], ['b.example/'])).toThrow(MirrorDivergedError);
    expect(() => mirror.apply([], ['a.example/', 'a.example/'])).toThrow(MirrorDivergedError);
    expect(() => mirror.apply([], ['a.example/y'])).toThrow(MirrorDivergedError);
    expect(() => mirror.apply([], ['a.example/x', 'a.example/x'])).toThrow(MirrorDivergedError);
  });

  it('applies many changes in bounded steps to the same mirror as at once', () => {
    const before = Array.from({ length: 3000 }, (_, i) =>
      i % 2 ? `old-${i}.example/` : `old-${i}.example/p`,
    );
    const added = Array.from({ length: 5000 }, (_, i) => `new-${i}.example/`);
    const removed = before.slice(0, 2500);
    const mirror = FilterMirror.fromWideKeys(wideKeysOf(before));
    const steps = mirror.applySteps(added, removed);
    let yields = 0;
    let step = steps.next();
    for (; !step.done; step = steps.next()) yields++;
    expect(yields).toBeGreaterThan(2);
    const whole = wideKeysOf([...before.slice(2500), ...added]);
    expect(step.value.wide).toEqual(whole);
    expect(mirror.apply(added, removed).wide).toEqual(whole);
  });
});
