import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `data` so that a crash at any instant leaves the old file or the new one: the
 * bytes go to a temporary file beside it, are fsynced, renamed over `path`, and the directory entry is
 * fsynced too (else a power cut may forget the rename). `data` may be parts written one after another
 * (an array, or a stream read as it is written), so a large file need not be joined in memory first.
 */
export async function writeFileDurably(
  path: string,
  data: Uint8Array | string | readonly Uint8Array[] | AsyncIterable<Uint8Array>,
  options: { mode?: number } = {},
): Promise<void> {
  const dir = dirname(path);
  const temp = tempPathBeside(path);
  const handle = await open(temp, 'wx', options.mode ?? 0o600);
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
    else for await (const part of data) await handle.writeFile(part);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/**
 * A fresh temporary name beside `path` (same directory, so the rename is atomic): `.NAME.PID.RANDOM.tmp`.
 * Crash clean-up code recognises leftovers by this pattern.
 */
export function tempPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Flushes a directory's entries (renames, removals) to disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
