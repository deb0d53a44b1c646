/**
 * One task in a worker thread running a TypeScript module of this repository: the module reads
 * `workerData`, posts exactly one `{ ok: true, value }` or `{ ok: false, message }`, and ends.
 */
import { Worker } from 'node:worker_threads';
import { TaskQueue } from './task-queue.ts';

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
  const worker = tsWorker(entry, data, transfer);
  return new Promise((resolve, reject) => {
    let aborted = false;
    // Settles once the thread has ended: nothing an aborted task does (a file it writes) comes after, and the
    // next task of a queue does not share the cores with a worker still finishing its current step.
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

/**
 * The hub's whole-list tasks, one at a time (see task-queue.ts). Orders and the start's checks do not wait in it:
 * an order must not wait minutes behind a scan, and the start checks two snapshots at once before it serves.
 */
export const wholeListQueue = new TaskQueue();

/**
 * {@link runWorkerTask} once the whole-list task before it has settled: the worker starts only then, so a task
 * waiting its turn holds its `data` and nothing else. An abort of `signal` while it waits rejects at once.
 */
export function runWholeListTask<T>(...task: Parameters<typeof runWorkerTask<T>>): Promise<T> {
  const [, , what, signal] = task;
  return wholeListQueue.run(() => runWorkerTask<T>(...task), what, signal);
}

/**
 * A worker thread running the TypeScript module at `entry` with `workerData` (the buffers in `transfer` moved to
 * it); the caller talks to it by messages.
 */
export function tsWorker(entry: URL, workerData: unknown, transfer: readonly ArrayBuffer[] = []): Worker {
  return new Worker(bootScript(entry), { eval: true, workerData, transferList: [...transfer] });
}
