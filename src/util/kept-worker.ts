/**
 * A worker thread kept between tasks of one kind, for tasks frequent enough that starting a thread for each
 * would cost more than the task: a new thread boots tsx and compiles its module graph again (about 0.4 CPU-s on
 * the bench machine) and leaves that memory to the allocator. Tasks run one after another in the thread, in the
 * order given; the thread ends after `idleMs` without a task and starts again with the next one.
 */
import type { Worker } from 'node:worker_threads';
import { tsWorker, type WorkerAnswer, WorkerTaskError } from './ts-worker.ts';

/** What the parent posts, and what the thread answers (task-server.ts). */
export interface KeptTask {
  id: number;
  data: unknown;
}
export type KeptAnswer = { id: number } & WorkerAnswer<unknown>;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class KeptWorker<T> {
  #worker: Worker | null = null;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #idle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly entry: URL,
    private readonly what: string,
    private readonly idleMs = 60_000,
  ) {}

  /** Runs one task in the thread (started if needed); resolves with its value. */
  run(data: unknown): Promise<T> {
    clearTimeout(this.#idle);
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      // Referenced while a task is out, so that the process waits for its answer.
      worker.ref();
      worker.postMessage({ id, data } satisfies KeptTask);
    });
  }

  /** Ends the thread now; tasks still out reject. */
  async close(): Promise<void> {
    clearTimeout(this.#idle);
    const worker = this.#worker;
    this.#worker = null;
    await worker?.terminate();
  }

  #start(): Worker {
    const worker = tsWorker(this.entry, undefined);
    this.#worker = worker;
    worker.on('message', (answer: KeptAnswer) => {
      const pending = this.#pending.get(answer.id);
      this.#pending.delete(answer.id);
      if (answer.ok) pending?.resolve(answer.value);
      else pending?.reject(new WorkerTaskError(`${this.what} failed: ${answer.message}`));
      if (this.#pending.size === 0) this.#rest(worker);
    });
    const fail = (message: string) => {
      if (this.#worker === worker) this.#worker = null;
      for (const pending of this.#pending.values()) pending.reject(new WorkerTaskError(message));
      this.#pending.clear();
    };
    worker.once('error', (error) => fail(`${this.what} failed: ${error.message}`));
    worker.once('exit', (code) => fail(`${this.what}: worker exited with code ${code} before answering`));
    return worker;
  }

  /** No task out: the thread no longer keeps the process alive, and ends after idleMs. */
  #rest(worker: Worker): void {
    worker.unref();
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      if (this.#worker === worker && this.#pending.size === 0) void this.close();
    }, this.idleMs);
    this.#idle.unref();
  }
}
