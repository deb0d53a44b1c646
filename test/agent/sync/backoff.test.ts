import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/agent/sync/backoff.ts';
import { retryAfterMs } from '../../../src/core/hub-client.ts';

describe('Backoff', () => {
  it('doubles from the base with a jitter factor in [1, 2), up to the cap', () => {
    const low = new Backoff({ baseMs: 1000, maxMs: 60_000, random: () => 0 });
    expect(Array.from({ length: 8 }, () => low.fail())).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000,
    ]);
    const high = new Backoff({ baseMs: 1000, maxMs: 60_000, random: () => 0.999 });
    expect(high.fail()).toBe(1999);
    expect(high.fail()).toBe(3998);
  });

  it('starts again after a success and never overflows after many failures', () => {
    const backoff = new Backoff({ baseMs: 1000, maxMs: 300_000, random: () => 0.5 });
    for (let i = 0; i < 5000; i++) expect(backoff.fail()).toBeLessThanOrEqual(300_000);
    expect(backoff.failures).toBe(5000);
    backoff.reset();
    expect(backoff.fail()).toBe(1500);
  });
});

describe('retryAfterMs', () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  it('reads delay seconds and HTTP dates, capped at an hour', () => {
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Wed, 01 Jan 2025 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Wed, 01 Jan 2025 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('999999', now)).toBe(3_600_000);
  });
  it('ignores an absent or unreadable header', () => {
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-5', now)).toBeUndefined();
  });
});
