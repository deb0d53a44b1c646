import { describe, expect, it } from 'vitest';
import { computeParity, type ParityAnswers } from './parity-cases.ts';
import { parityDiff } from './parity-compare.ts';
import expected from './parity-expected.json';

describe('cross-runtime parity table, in workerd', () => {
  it('gives the answers Node committed: canonicalization, expressions, Bloom, confirmation, Ed25519', async () => {
    const actual = await computeParity();
    expect(parityDiff(actual, expected as ParityAnswers)).toEqual([]);
  });
});
