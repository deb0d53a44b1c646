import { Backoff, type BackoffOptions } from './backoff.ts';

/**
 * When the outputs that failed (a render, a reload) are tried again: on their own back-off, apart from
 * the hub's, so a broken reload command neither stops polling nor runs in a tight loop.
 */
export class OutputRetries {
  readonly #backoff: Backoff;
  readonly #now: () => number;
  /** When the next retry is due; 0 while every output is applied. */
  #at = 0;

  constructor(backoff: BackoffOptions, now: () => number) {
    this.#backoff = new Backoff(backoff);
    this.#now = now;
  }

  /** Records how an apply of the outputs ended. */
  settle(allOk: boolean): void {
    if (allOk) {
      this.#backoff.reset();
      this.#at = 0;
    } else {
      this.#at = this.#now() + this.#backoff.fail();
    }
  }

  /** True when a retry may run now (also true when none is pending: there is then nothing behind). */
  get due(): boolean {
    return this.#now() >= this.#at;
  }

  /** `delay` (ms), shortened so a pending retry is not missed. */
  clampDelay(delay: number): number {
    return this.#at > 0 ? Math.min(delay, Math.max(0, this.#at - this.#now())) : delay;
  }

  /** A long-poll of `wait` seconds, shortened so a pending retry is not missed. */
  clampWaitSeconds(wait: number): number {
    if (this.#at === 0) return wait;
    return Math.min(wait, Math.max(0, Math.ceil((this.#at - this.#now()) / 1000)));
  }
}
