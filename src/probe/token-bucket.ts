/**
 * A query budget: at most `perMinute` takes per minute, with a burst of at most `burst` takes ahead of the
 * steady rate. Each take reserves the next slot on a virtual clock (GCRA), so over any span of T seconds at
 * most `burst + T x perMinute / 60` takes pass, however many callers wait at once.
 */
export class TokenBucket {
  readonly #intervalMs: number;
  readonly #burstMs: number;
  #next = 0;

  constructor(
    readonly perMinute: number,
    burst = Math.max(1, Math.floor(perMinute / 600)),
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(perMinute > 0) || !Number.isFinite(perMinute)) {
      throw new RangeError(`budget: ${perMinute} is not a positive number of queries per minute`);
    }
    this.#intervalMs = 60_000 / perMinute;
    this.#burstMs = Math.max(0, burst - 1) * this.#intervalMs;
  }

  /** Resolves when the caller may send one query. */
  take(signal?: AbortSignal): Promise<void> {
    const now = this.now();
    const slot = Math.max(this.#next, now - this.#burstMs);
    this.#next = slot + this.#intervalMs;
    const wait = slot - now;
    if (wait <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, wait);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }
}
