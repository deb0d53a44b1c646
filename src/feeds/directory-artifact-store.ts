import type { Dirent } from 'node:fs';
import { type FileHandle, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { equalBytes } from '../core/bytes.ts';
import { syncDirectory, writeFileDurably } from '../util/durable-file.ts';
import {
  ArtifactConflictError,
  type ArtifactStore,
  checkKey,
  checkPrefix,
  STREAM_CHUNK_BYTES,
} from './artifact-store.ts';

/**
 * Artifacts as files under one directory (by default the hub's `data/artifacts`), a key being a path
 * relative to it. A blob is written to a temporary name beside its final one, flushed, then renamed: a
 * reader or a crash never sees half a file. Temporary names start with a dot, which no key does; so does
 * the directory files are staged in before `putFile` moves them (a rename: the same filesystem).
 */
export class DirectoryArtifactStore implements ArtifactStore {
  constructor(readonly root: string) {}

  async put(key: string, bytes: Uint8Array): Promise<void> {
    checkKey(key);
    const path = this.#path(key);
    const existing = await this.get(key);
    if (existing) {
      if (equalBytes(existing, bytes)) return;
      throw new ArtifactConflictError(`artifact ${key} already holds other bytes`);
    }
    await mkdir(dirname(path), { recursive: true });
    await writeFileDurably(path, bytes, { mode: 0o644 });
  }

  async putFile(key: string, path: string): Promise<void> {
    checkKey(key);
    const target = this.#path(key);
    if (await exists(target)) {
      if (!(await sameContents(target, path)))
        throw new ArtifactConflictError(`artifact ${key} already holds other bytes`);
      await rm(path);
      return;
    }
    await flush(path);
    await mkdir(dirname(target), { recursive: true });
    await rename(path, target);
    await syncDirectory(dirname(target));
  }

  async staging(): Promise<string> {
    const parent = join(this.root, STAGING);
    await mkdir(parent, { recursive: true });
    // A hub killed mid-scan leaves its staging directory behind: whatever a process no longer alive staged
    // is swept here, so leftovers never outlive the next scan.
    for (const name of await readdir(parent)) {
      const pid = Number(/^(\d+)-/.exec(name)?.[1]);
      if (Number.isSafeInteger(pid) && pid !== process.pid && !isAlive(pid))
        await rm(join(parent, name), { recursive: true, force: true });
    }
    return mkdtemp(join(parent, `${process.pid}-`));
  }

  async putStream(key: string, parts: AsyncIterable<Uint8Array>): Promise<void> {
    checkKey(key);
    const path = this.#path(key);
    if ((await this.size(key)) !== null) throw new ArtifactConflictError(`artifact ${key} already exists`);
    await mkdir(dirname(path), { recursive: true });
    await writeFileDurably(path, parts, { mode: 0o644 });
  }

  async stream(key: string, offset: number): Promise<ReadableStream<Uint8Array> | null> {
    checkKey(key);
    const handle = await this.#open(key);
    if (!handle) return null;
    let at = offset;
    const close = () => handle.close().catch(() => undefined);
    return new ReadableStream({
      async pull(controller) {
        try {
          const chunk = new Uint8Array(STREAM_CHUNK_BYTES);
          const { bytesRead } = await handle.read(chunk, 0, chunk.length, at);
          if (bytesRead === 0) {
            await close();
            controller.close();
            return;
          }
          at += bytesRead;
          controller.enqueue(chunk.subarray(0, bytesRead));
        } catch (error) {
          await close();
          controller.error(error);
        }
      },
      cancel: close,
    });
  }

  async size(key: string): Promise<number | null> {
    checkKey(key);
    try {
      return (await stat(this.#path(key))).size;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    checkKey(key);
    try {
      const data = await readFile(this.#path(key));
      // A plain Uint8Array view: Buffer's `slice` shares memory, which callers of this port do not expect.
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async head(key: string, length: number): Promise<Uint8Array | null> {
    checkKey(key);
    const handle = await this.#open(key);
    if (!handle) return null;
    try {
      const bytes = new Uint8Array(Math.min(length, (await handle.stat()).size));
      let at = 0;
      while (at < bytes.length) {
        const { bytesRead } = await handle.read(bytes, at, bytes.length - at, at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return bytes.subarray(0, at);
    } finally {
      await handle.close();
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix);
    // Walk only the deepest directory the prefix names.
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = join(this.root, ...base.split('/'));
    let entries: Dirent[];
    try {
      entries = await readdir(start, { recursive: true, withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const keys: string[] = [];
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const key = relative(this.root, join(entry.parentPath, entry.name)).split(sep).join('/');
      if (key.startsWith(prefix) && !key.split('/').some((segment) => segment.startsWith('.')))
        keys.push(key);
    }
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await rm(this.#path(key), { force: true });
  }

  /** The blob's file opened for reading, or null when there is none. */
  async #open(key: string): Promise<FileHandle | null> {
    try {
      return await open(this.#path(key), 'r');
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  #path(key: string): string {
    return join(this.root, ...key.split('/'));
  }
}

/** Where `staging` makes its directories: hidden from `list` by its leading dot. */
const STAGING = '.staging';
/** Bytes compared per read when two files are compared. */
const COMPARE_BYTES = 1 << 20;

/** Whether process `pid` exists (signal 0 probes without signalling; EPERM: it exists, as another user's). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** Flushes a file's bytes to disk before it is renamed into place. */
async function flush(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Whether two files hold the same bytes, read a slice at a time (a snapshot may be hundreds of MB). */
async function sameContents(a: string, b: string): Promise<boolean> {
  const [first, second] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const size = (await first.stat()).size;
    if (size !== (await second.stat()).size) return false;
    const left = new Uint8Array(COMPARE_BYTES);
    const right = new Uint8Array(COMPARE_BYTES);
    for (let at = 0; at < size; at += COMPARE_BYTES) {
      const length = Math.min(COMPARE_BYTES, size - at);
      await readFully(first, left, length, at);
      await readFully(second, right, length, at);
      if (!equalBytes(left.subarray(0, length), right.subarray(0, length))) return false;
    }
    return true;
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
}

async function readFully(
  handle: FileHandle,
  into: Uint8Array,
  length: number,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(into, done, length - done, position + done);
    if (bytesRead === 0) throw new Error('file shrank while it was read');
    done += bytesRead;
  }
}

const isMissing = (error: unknown): boolean =>
  ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');
