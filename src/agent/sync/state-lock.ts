import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One agent per state directory: two agents sharing one would both apply every delta, both write the
 * outputs and both reload the resolver. The lock is a file holding the owner's pid, created with `link`
 * (atomic, and never visible half written); a lock whose process is gone is taken over.
 */

/** The state directory is held by a live process; the message names its pid. */
class StateLockedError extends Error {
  override name = 'StateLockedError';
}

export interface StateLock {
  /** The pid of a dead process whose lock was taken over, if any. */
  takenOverFrom?: number;
  release(): Promise<void>;
}

const LOCK_FILE = 'lock';

export async function lockStateDirectory(dir: string, pid = process.pid): Promise<StateLock> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, LOCK_FILE);
  const mine = join(dir, `.lock.${pid}.tmp`);
  await writeFile(mine, `${pid}\n`, { mode: 0o600 });
  let takenOverFrom: number | undefined;
  try {
    // Each round either takes the lock, fails on a live holder, or removes a dead one's lock.
    for (let round = 0; round < 5; round++) {
      try {
        await link(mine, path);
        return { ...(takenOverFrom !== undefined && { takenOverFrom }), release: () => release(path, pid) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const text = await readFile(path, 'utf8').catch(() => null);
      if (text === null) continue;
      const holder = Number.parseInt(text, 10);
      if (isAlive(holder)) {
        throw new StateLockedError(
          `state directory ${dir} is in use by another takedown sync (pid ${holder}); stop it, or give each agent its own --state`,
        );
      }
      // Removed only if still the dead holder's: another agent may have taken it over meanwhile.
      if ((await readFile(path, 'utf8').catch(() => null)) === text) await rm(path, { force: true });
      takenOverFrom = holder;
    }
    throw new StateLockedError(`cannot lock ${path}: other agents keep taking it`);
  } finally {
    await rm(mine, { force: true });
  }
}

async function release(path: string, pid: number): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text !== null && Number.parseInt(text, 10) === pid) await rm(path, { force: true });
}

/** Whether a process with this pid exists (EPERM: it does, under another user). */
function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
