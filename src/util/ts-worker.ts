/**
 * One task in a worker thread running a TypeScript module of this repository: the module reads
 * `workerData`, posts exactly one `{ ok: true, value }` or `{ ok: false, message }`, and ends.
 */
import { Worker } from 'node:worker_threads';

/** The task failed in the worker, or the worker ended without answering; the message says which. */
export class WorkerTaskError extends Error {
  override name = 'WorkerTaskError';
}

export type WorkerAnswer<T> = { ok: true; value: T } | { ok: false; message: string };

/** A worker cannot load TypeScript by itself: the script registers tsx's loader inside it first. */
const bootScript = (entry: URL) =>
  `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); })`;

/**
 * Runs the module at `entry` (a file URL) in a new worker with `data`; resolves with the value it posts.
 * The buffers in `transfer` move to the worker (unusable here after the call) instead of being copied.
 */
export function runWorkerTask<T>(
  entry: URL,
  data: unknown,
  what: string,
  signal?: AbortSignal,
  transfer: readonly ArrayBuffer[] = [],
): Promise<T> {
  const worker = new Worker(bootScript(entry), { eval: true, workerData: data, transferList: [...transfer] });
  return new Promise((resolve, reject) => {
    // An aborted task settles once its thread has ended: nothing it does (a file it writes) comes after.
    let aborted = false;
    const abort = () => {
      aborted = true;
      void worker.terminate();
    };
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
    const settle = () => signal?.removeEventListener('abort', abort);
    worker.once('message', (answer: WorkerAnswer<T>) => {
      settle();
      if (answer.ok) resolve(answer.value);
      else reject(new WorkerTaskError(`${what} failed: ${answer.message}`));
    });
    worker.once('error', (error) => {
      settle();
      reject(new WorkerTaskError(`${what} failed: ${error.message}`));
    });
    worker.once('exit', (code) => {
      settle();
      reject(
        new WorkerTaskError(
          aborted ? `${what} aborted` : `${what}: worker exited with code ${code} before answering`,
        ),
      );
    });
  });
}

/** A long-lived worker thread running the TypeScript module at `entry` (the caller talks to it by messages). */
export function tsWorker(entry: URL, workerData: unknown): Worker {
  return new Worker(bootScript(entry), { eval: true, workerData });
}
