import type { Dirent } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { equalBytes } from '../core/bytes.ts';
import { writeFileDurably } from '../util/durable-file.ts';
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
 * reader or a crash never sees half a file. Temporary names start with a dot, which no key does.
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

const isMissing = (error: unknown): boolean =>
  ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');
