/** Worker-thread entry of RegistryThreads: one registry operation on its own connection, answer posted back. */
import { parentPort, workerData } from 'node:worker_threads';
import { openRegistry, type Registry } from './registry.ts';
import type { RegistryTask } from './registry-threads.ts';

function run(registry: Registry, task: RegistryTask): unknown {
  switch (task.op) {
    case 'verifyChain':
      return registry.verifyChain();
    case 'countEntriesUnder':
      return registry.countEntriesUnder(task.domains);
    case 'revokeOrder':
      return registry.revokeOrder(task.id, task.reason, task.actor, { release: task.release });
    case 'expireDue':
      return registry.expireDue(new Date(task.now));
  }
}

const task = workerData as RegistryTask;
try {
  // None of these screens a target: the protected-domain list is not read.
  const registry = openRegistry(task.databasePath, {
    ...task.options,
    readonly: task.op === 'verifyChain' || task.op === 'countEntriesUnder',
    protectedDomainsFile: null,
  });
  try {
    parentPort?.postMessage({ ok: true, value: run(registry, task) });
  } finally {
    registry.close();
  }
} catch (error) {
  parentPort?.postMessage({ ok: false, message: (error as Error).message });
}
