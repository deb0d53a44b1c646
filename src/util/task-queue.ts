/**
 * Runs asynchronous tasks one after another. The hub's whole-list worker threads (snapshot scans, audit
 * verification, large revokes, expiry sweeps, periodic integrity checks) go through one such queue: two of them
 * at once would take both cores of a small machine and leave the event loop waiting for one (see
 * docs/DECISIONS.md: one whole-list worker at a time).
 */

/** A task that gave up its place in the queue because its signal was aborted before it started. */
export class QueueAbortError extends Error {
  override name = 'QueueAbortError';
}

interface Waiting {
  start(): void;
}

export class TaskQueue {
  #running = false;
  readonly #waiting: Waiting[] = [];

  /** Tasks started and not yet settled (0 or 1) plus tasks waiting for their turn. */
  get size(): number {
    return this.#waiting.length + (this.#running ? 1 : 0);
  }

  /**
   * Runs `task` once every task queued before it has settled; settles as it does. An abort of `signal` while it
   * waits rejects with a QueueAbortError and frees its place at once; once started, the task owns the signal.
   */
  run<T>(task: () => Promise<T>, what: string, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new QueueAbortError(`${what} aborted before it started`));
    return new Promise<T>((resolve, reject) => {
      const waiting: Waiting = {
        start: () => {
          signal?.removeEventListener('abort', leave);
          this.#running = true;
          // A task that throws synchronously settles like one that rejects, and frees the queue the same way.
          Promise.resolve()
            .then(task)
            .then(resolve, reject)
            .finally(() => {
              this.#running = false;
              this.#next();
            });
        },
      };
      const leave = () => {
        const at = this.#waiting.indexOf(waiting);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(new QueueAbortError(`${what} aborted before it started`));
      };
      signal?.addEventListener('abort', leave, { once: true });
      this.#waiting.push(waiting);
      this.#next();
    });
  }

  #next(): void {
    if (!this.#running) this.#waiting.shift()?.start();
  }
}
