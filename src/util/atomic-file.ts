import { copyFile, type FileHandle, link, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory, tempPathBeside } from './durable-file.ts';

/** Suffix of the last confirmed file, kept beside an output until its reload succeeds. */
const PREVIOUS_SUFFIX = '.prev';

/**
 * Buffered output of text or bytes: `write` returns a promise only when the buffer was flushed to disk,
 * so a producer awaits exactly when the disk is the bottleneck (back-pressure) and never holds more than
 * one buffer of output in memory. Bytes are copied or written before `write` returns or its promise
 * settles: the producer may then reuse them.
 */
export interface TextSink {
  write(piece: string | Uint8Array): Promise<void> | undefined;
}

export interface AtomicWriteOptions {
  /** Permission bits of a new file; an existing file's mode is kept. Default 0o644. */
  mode?: number;
  /**
   * Hard-link the file being replaced to `PATH.prev` first, unless a `.prev` is already there: an
   * existing `.prev` is the last confirmed file and survives until `dropPrevious` confirms a newer one.
   */
  keepPrevious?: boolean;
  /** Size of the write buffer in bytes. Default 256 KiB. */
  bufferSize?: number;
}

export interface AtomicWriteResult<T> {
  value: T;
  bytes: number;
}

const encoder = new TextEncoder();

class FileSink implements TextSink {
  readonly #handle: FileHandle;
  readonly #buffer: Uint8Array;
  #used = 0;
  bytes = 0;

  constructor(handle: FileHandle, size: number) {
    this.#handle = handle;
    this.#buffer = new Uint8Array(size);
  }

  write(piece: string | Uint8Array): Promise<void> | undefined {
    if (typeof piece !== 'string') return this.#writeBytes(piece);
    const { read, written } = encoder.encodeInto(piece, this.#buffer.subarray(this.#used));
    this.#used += written;
    return read === piece.length ? undefined : this.#spill(piece.slice(read));
  }

  #writeBytes(bytes: Uint8Array): Promise<void> | undefined {
    if (this.#used + bytes.length <= this.#buffer.length) {
      this.#buffer.set(bytes, this.#used);
      this.#used += bytes.length;
      return undefined;
    }
    // Too large for what is left: flush, then write it as it is rather than copy it in pieces.
    return this.flush().then(() => this.#writeAll(bytes));
  }

  async #spill(rest: string): Promise<void> {
    await this.flush();
    if (rest.length * 3 <= this.#buffer.length) {
      this.write(rest);
    } else {
      await this.#writeAll(encoder.encode(rest));
    }
  }

  async flush(): Promise<void> {
    if (this.#used === 0) return;
    await this.#writeAll(this.#buffer.subarray(0, this.#used));
    this.#used = 0;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await this.#handle.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    }
    this.bytes += bytes.length;
  }
}

async function modeOf(path: string, fallback: number): Promise<number> {
  try {
    return (await stat(path)).mode & 0o7777;
  } catch {
    return fallback;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Replaces `path` with what `produce` writes, atomically: the text goes to a temporary file in the
 * same directory, which is fsynced and renamed over `path` (then the directory is fsynced). Readers
 * see the old file or the new one, never a mix; if `produce` throws, the old file is untouched and
 * the temporary file is removed.
 */
export async function writeFileAtomic<T>(
  path: string,
  produce: (sink: TextSink) => Promise<T>,
  options: AtomicWriteOptions = {},
): Promise<AtomicWriteResult<T>> {
  const dir = dirname(path);
  const temp = tempPathBeside(path);
  const mode = await modeOf(path, options.mode ?? 0o644);
  const handle = await open(temp, 'wx', mode);
  let closed = false;
  try {
    const sink = new FileSink(handle, options.bufferSize ?? 256 * 1024);
    const value = await produce(sink);
    await sink.flush();
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    closed = true;
    const previous = path + PREVIOUS_SUFFIX;
    if (options.keepPrevious && !(await exists(previous)) && (await exists(path))) {
      // A hard link costs nothing; a copy is for file systems without them.
      await link(path, previous).catch(() => copyFile(path, previous));
    }
    await rename(temp, path);
    await syncDirectory(dir);
    return { value, bytes: sink.bytes };
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
}

/** Forgets the last confirmed file: the file now at `path` is confirmed (its reload succeeded). */
export async function dropPrevious(path: string): Promise<void> {
  await rm(path + PREVIOUS_SUFFIX, { force: true });
}

/** Puts the last confirmed file back at `path`; false when there is none to restore. */
export async function restorePrevious(path: string): Promise<boolean> {
  const previous = path + PREVIOUS_SUFFIX;
  if (!(await exists(previous))) return false;
  await rename(previous, path);
  await syncDirectory(dirname(path));
  return true;
}
