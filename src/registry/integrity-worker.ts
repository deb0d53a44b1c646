/** Worker-thread entry of `integrityCheckInWorker`: an integrity check on its own read-only connection. */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { checkIntegrity, isCorruptionError } from './integrity.ts';

const { path, kind } = workerData as { path: string; kind: 'quick_check' | 'integrity_check' };
try {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    parentPort?.postMessage({ ok: true, problems: checkIntegrity(db, kind) });
  } finally {
    db.close();
  }
} catch (error) {
  const message = (error as Error).message;
  parentPort?.postMessage(
    isCorruptionError(error) ? { ok: true, problems: [message] } : { ok: false, message },
  );
}
