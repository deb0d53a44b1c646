/**
 * Worker threads of whole-list work (chain audit, large orders and revokes, integrity checks) run at a lower CPU
 * priority than the event loop that shares their process: on a loaded machine the scheduler then hands the
 * loop a CPU first, and a health check or a small request waits for it less. Linux only: a thread's nice value
 * is its own there (setpriority with a thread id); elsewhere nothing changes.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The nice value such threads take (0 is the default, 19 the lowest priority). */
export const BACKGROUND_NICE = 10;

/** The id of the calling thread (Linux `/proc/thread-self`), or null where the system does not tell. */
export function threadId(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isSafeInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/** Lowers the calling thread's priority to BACKGROUND_NICE; false where it cannot (not Linux, or refused). */
export function lowerThreadPriority(): boolean {
  const tid = threadId();
  if (tid === null) return false;
  try {
    setPriority(tid, BACKGROUND_NICE);
    return true;
  } catch {
    return false;
  }
}
