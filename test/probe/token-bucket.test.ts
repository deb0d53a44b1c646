import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/probe/token-bucket.ts';

// The budget on a clock the test moves by hand: which takes may go now, which must wait.

/** Whether `promise` has settled after the current microtasks ran. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe('TokenBucket', () => {
  it('lets the burst through at once, then one take per interval', async () => {
    let now = 1_000_000;
    const bucket = new TokenBucket(600, 3, () => now); // one per 100 ms, three at once
    const first = [bucket.take(), bucket.take(), bucket.take()];
    for (const take of first) expect(await settled(take)).toBe(true);
    const fourth = bucket.take();
    expect(await settled(fourth)).toBe(false);
    now += 100;
    await fourth; // served when its timer wakes and finds the clock moved
    now += 10_000; // ten seconds idle refill at most the burst again
    const again = Array.from({ length: 4 }, () => bucket.take());
    expect(await Promise.all(again.slice(0, 3).map(settled))).toEqual([true, true, true]);
    expect(await settled(again[3] as Promise<void>)).toBe(false);
    now += 1000;
    await Promise.all(again);
  });

  it('refuses a budget that is not a positive rate', () => {
    expect(() => new TokenBucket(0)).toThrow(/budget/);
    expect(() => new TokenBucket(Number.NaN)).toThrow(/budget/);
  });
});
