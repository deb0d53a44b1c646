/**
 * Worker-thread entry for the whole-list queue's tests: records its start and end in a shared SQLite file, so a
 * test sees whether two tasks overlapped. Between them it waits for a `release` row naming it (`hold: 'release'`)
 * or a few hundred milliseconds (`hold: 'pause'`, long enough for a worker started beside it to record its start).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface TimelineTask {
  path: string;
  name: string;
  hold: 'pause' | 'release';
  fail?: boolean;
}

const PAUSE_MS = 300;
const POLL_MS = 10;

const task = workerData as TimelineTask;
const db = new Database(task.path);
db.pragma('busy_timeout = 10000');
const record = (event: string) =>
  db.prepare('INSERT INTO timeline (name, event) VALUES (?, ?)').run(task.name, event);
const released = () =>
  db.prepare("SELECT 1 FROM timeline WHERE name = ? AND event = 'release'").get(task.name) !== undefined;
const nap = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(nap, 0, 0, ms);

record('start');
if (task.hold === 'pause') sleep(PAUSE_MS);
else while (!released()) sleep(POLL_MS);
record('end');
db.close();
parentPort?.postMessage(
  task.fail ? { ok: false, message: `${task.name} fails` } : { ok: true, value: task.name },
);
