/** Thread of the KeptWorker tests: answers with its thread id, fails or ends itself when asked to. */
import { threadId } from 'node:worker_threads';
import { serveTasks } from '../../src/util/task-server.ts';

serveTasks((data) => {
  if (data === 'fail') throw new Error('asked to fail');
  if (data === 'exit') process.exit(3);
  return threadId;
});
