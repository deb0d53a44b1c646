/** The thread side of a KeptWorker (kept-worker.ts): answers each task posted to it, one after another. */
import { parentPort } from 'node:worker_threads';
import type { KeptAnswer, KeptTask } from './kept-worker.ts';

export function serveTasks(handle: (data: unknown) => unknown): void {
  parentPort?.on('message', ({ id, data }: KeptTask) => {
    let answer: KeptAnswer;
    try {
      answer = { id, ok: true, value: handle(data) };
    } catch (error) {
      answer = { id, ok: false, message: (error as Error).message };
    }
    parentPort?.postMessage(answer);
  });
}
