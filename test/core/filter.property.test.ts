import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyBloom } from '../../src/core/bloom.ts';
import { confirmationKey, isRootExpression, type KeyWidths, keyTail } from '../../src/core/confirm.ts';
import { decodeFilterSnapshot, encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { FilterState } from '../../src/core/filter-state.ts';
import { hashExpression } from '../../src/core/hash.ts';
import { filterDeltaFrom } from '../helpers/filter-delta.ts';
import { value } from '../helpers/results.ts';

const domains = readFileSync(new URL('../fixtures/filter/malware-domains.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean);

const hash = new Uint32Array(4);
/** The key of an expression at its class's width, tagged with its class. */
function keyOf(expression: string, bits: KeyWidths): string {
  hashExpression(expression, hash);
  const root = isRootExpression(expression);
  return `${root ? 'root' : 'path'} ${confirmationKey(hash, root ? bits.root : bits.path)}`;
}

/** Whole-domain and URL expressions on real domains, as Safe Browsing writes them. */
const expression = fc.oneof(
  fc.constantFrom(...domains).map((name) => `${name}/`),
  fc
    .tuple(
      fc.constantFrom(...domains),
      fc.stringMatching(/^[a-z0-9._-]{1,10}(\/[a-z0-9._-]{1,10}){0,2}\/?$/),
      fc.option(fc.stringMatching(/^[a-z]{1,5}=[a-z0-9%]{0,6}$/), { nil: undefined }),
    )
    .map(([name, path, query]) => `${name}/${path}${query === undefined ? '' : `?${query}`}`),
);
const expressionSet = fc.uniqueArray(expression, { maxLength: 150 });

describe('filter feed invariants', () => {
  it('delta(A -> B) applied to snapshot(A) gives snapshot(B): key set, count, checksum and lookups', async () => {
    await fc.assert(
      fc.asyncProperty(expressionSet, expressionSet, fc.boolean(), async (a, b, lean) => {
        // A loose rate makes Bloom false positives common, so confirmation is exercised too.
        const fpr = 0.02;
        const snapshotA = await encodeFilterSnapshot(a, { fpr });
        const bits = snapshotA.bits;
        // Two expressions sharing a key of their class would make expression-level changes ambiguous; the
        // hub resolves that before encoding, this property is about everything else.
        fc.pre(new Set([...a, ...b].map((e) => keyOf(e, bits))).size === new Set([...a, ...b]).size);
        const inB = new Set(b);
        const inA = new Set(a);
        const delta = filterDeltaFrom(
          a,
          b.filter((e) => !inA.has(e)),
          a.filter((e) => !inB.has(e)),
          bits,
        );
        const snapshotB = await encodeFilterSnapshot(b, { fpr, bits });
        const state = value(value(FilterState.fromSnapshot(snapshotA.payload, { lean })).applyDelta(delta));

        expect(state.entryCount).toBe(snapshotB.entryCount);
        if (!lean) {
          expect(await state.checksum()).toBe(snapshotB.checksum);
          const expectedKeys = value(decodeFilterSnapshot(snapshotB.payload)).keys;
          expect(expectedKeys.root.keys.every((key) => state.hasKey('root', key))).toBe(true);
          expect(expectedKeys.path.keys.every((key) => state.hasKey('path', key))).toBe(true);
          expect(state.matchingKeys(a.filter((e) => !inB.has(e)))).toEqual({ root: [], path: [] });
          // A lean state cannot tell a removed key from a kept one: it stays a candidate for the hub.
          for (const e of a) if (!inB.has(e)) expect(state.isBlocked([e])).toBe(false);
        }
        for (const e of b) expect(state.isBlocked([e])).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('never gives a false negative, whatever the set and rate', async () => {
    await fc.assert(
      fc.asyncProperty(
        expressionSet,
        fc.double({ min: 1e-9, max: 0.5, noNaN: true }),
        fc.boolean(),
        async (set, fpr, lean) => {
          const state = value(
            FilterState.fromSnapshot((await encodeFilterSnapshot(set, { fpr })).payload, { lean }),
          );
          for (const e of set) expect(state.isBlocked(['unrelated.example/', e])).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps the measured Bloom false-positive rate within 1.5x of the configured one', () => {
    const fpr = 1e-4;
    const bits = 60;
    const bloom = KeyBloom.create(100_000, fpr);
    const add = (expression: string) => {
      hashExpression(expression, hash);
      bloom.addHash(hash, bits, true);
    };
    const has = (expression: string) => {
      hashExpression(expression, hash);
      return bloom.hasHash(hash, bits, true);
    };
    for (let i = 0; i < 100_000; i++) add(`${domains[i % domains.length]}/member/${i}`);
    for (let i = 0; i < 100_000; i++) expect(has(`${domains[i % domains.length]}/member/${i}`)).toBe(true);
    let positives = 0;
    for (let i = 0; i < 1_000_000; i++) if (has(`${domains[i % domains.length]}/other/${i}`)) positives++;
    const measured = positives / 1_000_000;
    expect(measured).toBeLessThan(1.5 * fpr);
    // A filter that answers "maybe" far too rarely would be as suspect as one that answers it too often.
    expect(measured).toBeGreaterThan(fpr / 1.5);
    expect(keyTail(hash, bits)).toBeLessThan(2 ** 7);
  });
});
