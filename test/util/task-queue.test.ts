import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { IntegrityMonitor } from '../../src/hub/integrity-monitor.ts';
import { openRegistry } from '../../src/registry/registry.ts';
import { RegistryThreads } from '../../src/registry/registry-threads.ts';
import { QueueAbortError, TaskQueue } from '../../src/util/task-queue.ts';
import {
  runWholeListTask,
  runWorkerTask,
  WorkerTaskError,
  wholeListQueue,
} from '../../src/util/ts-worker.ts';
import type { TimelineTask } from './timeline-worker.ts';

// The whole-list queue with real worker threads: each task records its start and end in one SQLite file.

const WORKER = new URL('./timeline-worker.ts', import.meta.url);
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function timeline() {
  const dir = mkdtempSync(join(tmpdir(), 'takedown-queue-'));
  dirs.push(dir);
  const path = join(dir, 'timeline.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE timeline (seq INTEGER PRIMARY KEY, name TEXT NOT NULL, event TEXT NOT NULL)');
  const events = () =>
    (
      db.prepare("SELECT name, event FROM timeline WHERE event <> 'release' ORDER BY seq").all() as {
        name: string;
        event: string;
      }[]
    ).map((e) => `${e.name} ${e.event}`);
  return {
    dir,
    task: (name: string, hold: TimelineTask['hold'], fail = false): TimelineTask => ({
      path,
      name,
      hold,
      fail,
    }),
    events,
    release: (name: string) =>
      db.prepare("INSERT INTO timeline (name, event) VALUES (?, 'release')").run(name),
    /** Resolves once `name` has recorded its start: a condition, not a duration. */
    started: async (name: string) => {
      while (!events().includes(`${name} start`)) await new Promise((r) => setTimeout(r, 10));
    },
  };
}

describe('the whole-list queue', () => {
  it('runs two whole-list tasks submitted together one after the other', async () => {
    const t = timeline();
    const answers = await Promise.all([
      runWholeListTask(WORKER, t.task('a', 'pause'), 'task a'),
      runWholeListTask(WORKER, t.task('b', 'pause'), 'task b'),
    ]);
    expect(answers).toEqual(['a', 'b']);
    expect(t.events()).toEqual(['a start', 'a end', 'b start', 'b end']);
    expect(wholeListQueue.size).toBe(0);
  });

  it('rejects a task aborted while it waits, without starting its worker, and runs the next one in its place', async () => {
    const t = timeline();
    const queue = new TaskQueue();
    const run = (task: TimelineTask, signal?: AbortSignal) =>
      queue.run(() => runWorkerTask(WORKER, task, `task ${task.name}`), `task ${task.name}`, signal);
    const first = run(t.task('a', 'release'));
    const stop = new AbortController();
    const waiting = run(t.task('b', 'pause'), stop.signal);
    const next = run(t.task('c', 'pause'));
    await t.started('a');
    expect(queue.size).toBe(3);
    stop.abort();
    await expect(waiting).rejects.toThrow(QueueAbortError);
    expect(queue.size).toBe(2);
    t.release('a');
    expect(await Promise.all([first, next])).toEqual(['a', 'c']);
    expect(t.events()).toEqual(['a start', 'a end', 'c start', 'c end']);
    expect(queue.size).toBe(0);
  });

  it('does not start a task whose signal was aborted before it was queued', async () => {
    const queue = new TaskQueue();
    let ran = false;
    const task = async () => {
      ran = true;
    };
    await expect(queue.run(task, 'task', AbortSignal.abort())).rejects.toThrow(QueueAbortError);
    expect(ran).toBe(false);
    expect(queue.size).toBe(0);
  });

  it('runs the next task after one that fails, and after one that throws before it returns a promise', async () => {
    const t = timeline();
    const queue = new TaskQueue();
    const failing = queue.run(() => runWorkerTask(WORKER, t.task('a', 'pause', true), 'task a'), 'task a');
    const throwing = queue.run(() => {
      throw new Error('no worker');
    }, 'task x');
    const next = queue.run(() => runWorkerTask(WORKER, t.task('b', 'pause'), 'task b'), 'task b');
    await expect(failing).rejects.toThrow(new WorkerTaskError('task a failed: a fails'));
    await expect(throwing).rejects.toThrow('no worker');
    expect(await next).toBe('b');
    expect(t.events()).toEqual(['a start', 'a end', 'b start', 'b end']);
  });

  it("queues the hub's audit, revokes, expiry sweeps and integrity checks, but not four-eyes' count", async () => {
    const t = timeline();
    const path = join(t.dir, 'registry.db');
    openRegistry(path).close();
    const holding = runWholeListTask(WORKER, t.task('scan', 'release'), 'a scan');
    await t.started('scan');
    const threads = new RegistryThreads(path);
    const audit = threads.verifyChain();
    const sweep = threads.expireDue(new Date());
    const revoke = threads.revokeOrder(1, 'reason', 'bob');
    const monitor = new IntegrityMonitor(
      path,
      0,
      () => undefined,
      () => undefined,
    );
    const check = monitor.checkNow();
    // An order's four-eyes count runs at once, beside the whole-list task.
    expect(await threads.countEntriesUnder(['example.com'])).toEqual([['example.com', 0]]);
    expect(wholeListQueue.size).toBe(5);
    threads.stop();
    await monitor.stop();
    for (const waiting of [audit, sweep, revoke, check])
      await expect(waiting).rejects.toThrow(QueueAbortError);
    expect(wholeListQueue.size).toBe(1);
    t.release('scan');
    expect(await holding).toBe('scan');
  });
});
