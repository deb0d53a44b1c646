/** Worker-thread entry of `orderInWorker`: one large order on its own registry connection, the answer posted back. */
import { parentPort, workerData } from 'node:worker_threads';
import { openRegistry } from '../registry/registry.ts';
import { answerOrderText, type OrderTask } from './order-thread.ts';

const task = workerData as OrderTask;
try {
  // Screened against the default protected-domain list, as the hub's own connection does.
  const registry = openRegistry(task.databasePath, task.options);
  try {
    parentPort?.postMessage({ ok: true, value: answerOrderText(registry, task) });
  } finally {
    registry.close();
  }
} catch (error) {
  parentPort?.postMessage({ ok: false, message: (error as Error).message });
}
