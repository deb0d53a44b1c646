/**
 * When to try again after a failure: the Safe Browsing schedule scaled to a feed that must be enforced
 * within seconds. The N-th consecutive failure waits `base * 2^(N-1) * (1 + random)`, capped, so a
 * thousand agents that lost the hub at the same moment come back spread out instead of in one wave.
 */
export interface BackoffOptions {
  /** Wait after the first failure, before jitter. Default 1 s. */
  baseMs?: number;
  /** No wait is longer than this. Default 5 minutes. */
  maxMs?: number;
  /** A number in [0, 1); `Math.random` unless a test pins it. */
  random?: () => number;
}

export class Backoff {
  readonly #base: number;
  readonly #max: number;
  readonly #random: () => number;
  #failures = 0;

  constructor(options: BackoffOptions = {}) {
    this.#base = options.baseMs ?? 1_000;
    this.#max = options.maxMs ?? 300_000;
    this.#random = options.random ?? Math.random;
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Records a failure and returns how long to wait before the next attempt (ms). */
  fail(): number {
    this.#failures++;
    // Past 2^30 the product only overflows towards the cap anyway.
    const exponent = Math.min(this.#failures - 1, 30);
    return Math.min(this.#max, Math.round(this.#base * 2 ** exponent * (1 + this.#random())));
  }

  /** A success: the next failure starts the schedule again. */
  reset(): void {
    this.#failures = 0;
  }
}
