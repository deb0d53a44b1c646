/** Long-polls waiting for a version past the one they hold; all released the moment one is visible. */
export class VersionWaiters {
  /** Release functions, keyed to the version each waits to see passed. */
  readonly #waiting = new Map<() => void, number>();

  /**
   * Resolves once {@link notify} announces a version above `after`, or when `timeoutMs` elapse or `signal`
   * aborts. The caller reads the visible version afterwards.
   */
  wait(after: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const release = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', release);
        this.#waiting.delete(release);
        resolve();
      };
      const timer = setTimeout(release, timeoutMs);
      signal?.addEventListener('abort', release, { once: true });
      this.#waiting.set(release, after);
    });
  }

  /** Releases every wait for a version below `version`. */
  notify(version: number): void {
    for (const [release, after] of this.#waiting) if (version > after) release();
  }

  releaseAll(): void {
    for (const release of [...this.#waiting.keys()]) release();
  }
}
