import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BACKGROUND_NICE, threadId } from '../../src/util/thread-priority.ts';
import { runWorkerTask } from '../../src/util/ts-worker.ts';

const niceOf = (tid: number) =>
  Number(readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ')[16]);

describe.runIf(process.platform === 'linux')('lowerThreadPriority', () => {
  it("lowers the calling worker thread's priority and leaves the event loop's thread as it was", async () => {
    const main = threadId();
    expect(main).toBe(process.pid);
    const before = niceOf(process.pid);
    const worker = await runWorkerTask<{ lowered: boolean; nice: number; tid: number }>(
      new URL('../fixtures/workers/priority-worker.ts', import.meta.url),
      null,
      'priority check',
    );
    expect(worker).toMatchObject({ lowered: true, nice: BACKGROUND_NICE });
    expect(worker.tid).not.toBe(process.pid);
    expect(niceOf(process.pid)).toBe(before);
  });
});
