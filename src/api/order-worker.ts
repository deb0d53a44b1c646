/**
 * Thread of `orderInWorker`, kept between orders: each large order on its own registry connection, opened for
 * it (so that it reads the protected-domain list as it is now) and closed after it, the answer posted back.
 */
import { openRegistry } from '../registry/registry.ts';
import { serveTasks } from '../util/task-server.ts';
import { answerOrderText, type OrderTask } from './order-thread.ts';

serveTasks((data) => {
  const task = data as OrderTask;
  // Screened against the default protected-domain list, as the hub's own connection does.
  const registry = openRegistry(task.databasePath, task.options);
  try {
    return answerOrderText(registry, task);
  } finally {
    registry.close();
  }
});
