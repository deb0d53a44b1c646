/**
 * The registry's whole-list operations run in a worker thread with their own connection, so the hub's
 * event loop keeps answering while they read or write millions of rows: the chain audit and four-eyes'
 * count of entries under an order's domains on a read-only connection; large revokes and expiry sweeps as
 * the usual single write transaction (SQLite serialises writers anyway; the hub's
 * connection waits on its busy timeout meanwhile). Each call wraps the same registry method the hub would
 * call inline.
 */
import { runWorkerTask } from '../util/ts-worker.ts';
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
  constructor(
    readonly databasePath: string,
    readonly options: ThreadOptions = {},
  ) {}

  /** `Registry.verifyChain` on a read-only connection. */
  verifyChain(): Promise<ChainReport> {
    const task: RegistryTask = { op: 'verifyChain', databasePath: this.databasePath, options: this.options };
    return runWorkerTask(WORKER, task, 'chain audit');
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
    return runWorkerTask(WORKER, task, `revoking order ${id}`);
  }

  /** `Registry.expireDue` on the worker's own connection. */
  expireDue(now: Date): Promise<(WriteOutcome & { orders: number[] }) | null> {
    const task: RegistryTask = {
      op: 'expireDue',
      databasePath: this.databasePath,
      options: this.options,
      now: now.toISOString(),
    };
    return runWorkerTask(WORKER, task, 'expiry sweep');
  }
}
