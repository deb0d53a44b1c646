/**
 * A query budget: a token bucket refilled at `perMinute / 60` tokens per second, holding at most `burst`
 * tokens (default: 10 ms worth). Tokens are counted on the clock when a waiter wakes, not reserved ahead, so an
 * event loop that stalls cannot release a backlog later: any window of T seconds sees at most
 * `burst + T x perMinute / 60` takes, whatever the timers do. Waiters are served in order.
 */
export class TokenBucket {
  readonly #intervalMs: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;
  readonly #queue: Array<{ resolve(): void; reject(reason: unknown): void }> = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly perMinute: number,
    burst = Math.max(1, Math.floor(perMinute / 6000)),
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(perMinute > 0) || !Number.isFinite(perMinute)) {
      throw new RangeError(`budget: ${perMinute} is not a positive number of queries per minute`);
    }
    this.#intervalMs = 60_000 / perMinute;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now();
  }

  /** Resolves when the caller may send one query; rejects when `signal` aborts first. */
  take(signal?: AbortSignal): Promise<void> {
    if (this.#queue.length === 0) {
      this.#refill();
      if (this.#tokens >= 1) {
        this.#tokens--;
        return Promise.resolve();
      }
    }
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.#queue.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const at = this.#queue.indexOf(waiter);
          if (at !== -1) this.#queue.splice(at, 1);
          reject(signal.reason);
        },
        { once: true },
      );
      this.#serve();
    });
  }

  #refill(): void {
    const now = this.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) / this.#intervalMs);
    this.#last = now;
  }

  #serve(): void {
    if (this.#timer !== undefined) return;
    this.#refill();
    while (this.#queue.length > 0 && this.#tokens >= 1) {
      this.#tokens--;
      this.#queue.shift()?.resolve();
    }
    if (this.#queue.length === 0) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#serve();
      },
      Math.max(1, (1 - this.#tokens) * this.#intervalMs),
    );
  }
}
