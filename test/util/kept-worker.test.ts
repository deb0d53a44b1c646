import { describe, expect, it } from 'vitest';
import { KeptWorker } from '../../src/util/kept-worker.ts';
import { WorkerTaskError } from '../../src/util/ts-worker.ts';

// A worker thread kept between tasks (the hub's large orders): one thread for many tasks, a task's failure
// answered as its own, and a thread that died replaced by the next task.

const FIXTURE = new URL('./kept-fixture-worker.ts', import.meta.url);

describe('KeptWorker', () => {
  it('runs tasks in one thread, answers a failure as that task only, and starts a new thread after one ended', async () => {
    const kept = new KeptWorker<number>(FIXTURE, 'a test task');
    const [first, second] = await Promise.all([kept.run('a'), kept.run('b')]);
    expect(second).toBe(first);
    await expect(kept.run('fail')).rejects.toThrow(new WorkerTaskError('a test task failed: asked to fail'));
    expect(await kept.run('c')).toBe(first);
    await expect(kept.run('exit')).rejects.toThrow(
      new WorkerTaskError('a test task: worker exited with code 3 before answering'),
    );
    const next = await kept.run('d');
    expect(next).not.toBe(first);
    await kept.close();
    expect(await kept.run('e')).not.toBe(next);
    await kept.close();
  });
});
