import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { issuedAt } from '../../src/feeds/freshness.ts';

const HOUR = 3_600_000;

describe('issuedAt', () => {
  it('dates an artifact at its commit, then moves in half-TTL steps', () => {
    const commit = Date.UTC(2025, 0, 1);
    expect(issuedAt(commit, commit, 24 * HOUR)).toBe(commit);
    expect(issuedAt(commit, commit + 11 * HOUR, 24 * HOUR)).toBe(commit);
    expect(issuedAt(commit, commit + 12 * HOUR, 24 * HOUR)).toBe(commit + 12 * HOUR);
    expect(issuedAt(commit, commit + 30 * HOUR, 24 * HOUR)).toBe(commit + 24 * HOUR);
    // A clock behind the registry's never dates an artifact before its commit.
    expect(issuedAt(commit, commit - HOUR, 24 * HOUR)).toBe(commit);
  });

  it('always leaves at least half the TTL, and is the same for every build within a step', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 42 }),
        fc.integer({ min: 0, max: 2 ** 36 }),
        fc.integer({ min: 2, max: 2 ** 30 }),
        (commit, age, ttl) => {
          const now = commit + age;
          const created = issuedAt(commit, now, ttl);
          expect(created).toBeLessThanOrEqual(now);
          expect(created + ttl - now).toBeGreaterThanOrEqual(Math.ceil(ttl / 2));
          expect(issuedAt(commit, created, ttl)).toBe(created);
        },
      ),
    );
  });
});
