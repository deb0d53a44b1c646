import { Worker } from 'node:worker_threads';

/**
 * A worker thread running the TypeScript module at `entry`: a worker cannot load TypeScript by
 * itself, so tsx's loader is registered inside it first.
 */
export function tsWorker(entry: URL, workerData: unknown): Worker {
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
