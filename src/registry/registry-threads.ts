/**
 * The registry's whole-list operations run in a worker thread with their own connection, so the hub's
 * event loop keeps answering while they read or write millions of rows: the chain audit and four-eyes'
 * count of entries under an order's domains on a read-only connection; large revokes and expiry sweeps as
 * the usual single write transaction (SQLite serialises writers anyway; the hub's
 * connection waits on its busy timeout meanwhile). Each call wraps the same registry method the hub would
 * call inline. All but the four-eyes count (an order waits for it) take their turn in the whole-list queue.
 */
import { runWorkerTask, wholeListQueue } from '../util/ts-worker.ts';
import type { RegistryOptions } from './registry.ts';
import type { ChainReport, RegistryResult, WriteOutcome } from './types.ts';

/** The registry settings a worker's connection needs to write as the hub does (plain data: it crosses threads). */
export type ThreadOptions = Pick<
  RegistryOptions,
  'confidentialCategories' | 'timeZone' | 'fourEyes' | 'maxSizeMiB'
>;

/** What the worker is asked to do (see registry-worker.ts). */
export type RegistryTask = { databasePath: string; options: ThreadOptions } & (
  | { op: 'verifyChain' }
  | { op: 'countEntriesUnder'; domains: string[] }
  | { op: 'revokeOrder'; id: number; reason: string; actor: string; release: boolean }
  | { op: 'expireDue'; now: string }
);

const WORKER = new URL('./registry-worker.ts', import.meta.url);

export class RegistryThreads {
  readonly #stopping = new AbortController();

  constructor(
    readonly databasePath: string,
    readonly options: ThreadOptions = {},
  ) {}

  /** `Registry.verifyChain` on a read-only connection. */
  verifyChain(): Promise<ChainReport> {
    const task: RegistryTask = { op: 'verifyChain', databasePath: this.databasePath, options: this.options };
    return this.#queued(task, 'chain audit', true);
  }

  /** `Registry.countEntriesUnder` on a read-only connection: the four-eyes count before an order is written. */
  countEntriesUnder(domains: string[]): Promise<[string, number][]> {
    const task: RegistryTask = {
      op: 'countEntriesUnder',
      databasePath: this.databasePath,
      options: this.options,
      domains,
    };
    return runWorkerTask(WORKER, task, 'four-eyes domain count');
  }

  /** `Registry.revokeOrder` on the worker's own connection. */
  revokeOrder(
    id: number,
    reason: string,
    actor: string,
    release = false,
  ): Promise<RegistryResult<WriteOutcome>> {
    const task: RegistryTask = {
      op: 'revokeOrder',
      databasePath: this.databasePath,
      options: this.options,
      id,
      reason,
      actor,
      release,
    };
    return this.#queued(task, `revoking order ${id}`, false);
  }

  /** `Registry.expireDue` on the worker's own connection. */
  expireDue(now: Date): Promise<(WriteOutcome & { orders: number[] }) | null> {
    const task: RegistryTask = {
      op: 'expireDue',
      databasePath: this.databasePath,
      options: this.options,
      now: now.toISOString(),
    };
    return this.#queued(task, 'expiry sweep', false);
  }

  /**
   * Rejects the tasks waiting their turn and ends a running read; a running write goes on to its commit (ended
   * mid-transaction, it would leave its caller unsure whether it committed).
   */
  stop(): void {
    this.#stopping.abort();
  }

  #queued<T>(task: RegistryTask, what: string, read: boolean): Promise<T> {
    const signal = this.#stopping.signal;
    return wholeListQueue.run(
      () => runWorkerTask<T>(WORKER, task, what, read ? signal : undefined),
      what,
      signal,
    );
  }
}
