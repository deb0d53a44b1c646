import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concatBytes, equalBytes } from '../core/bytes.ts';
import {
  ArtifactConflictError,
  type ArtifactStore,
  checkKey,
  checkPrefix,
  STREAM_CHUNK_BYTES,
} from './artifact-store.ts';

/** An artifact store in memory: for tests and for a hub that republishes everything at start. */
export class MemoryArtifactStore implements ArtifactStore {
  readonly #blobs = new Map<string, Uint8Array>();

  async put(key: string, bytes: Uint8Array): Promise<void> {
    checkKey(key);
    const existing = this.#blobs.get(key);
    if (existing && !equalBytes(existing, bytes)) {
      throw new ArtifactConflictError(`artifact ${key} already holds other bytes`);
    }
    // Copied, so a caller reusing its buffer cannot change a stored blob.
    this.#blobs.set(key, bytes.slice());
  }

  async putFile(key: string, path: string): Promise<void> {
    checkKey(key);
    const data = await readFile(path);
    await this.put(key, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    await rm(path);
  }

  async staging(): Promise<string> {
    return mkdtemp(join(tmpdir(), 'takedown-staging-'));
  }

  async get(key: string): Promise<Uint8Array | null> {
    checkKey(key);
    return this.#blobs.get(key)?.slice() ?? null;
  }

  async head(key: string, length: number): Promise<Uint8Array | null> {
    checkKey(key);
    return this.#blobs.get(key)?.slice(0, length) ?? null;
  }

  async putStream(key: string, parts: AsyncIterable<Uint8Array>): Promise<void> {
    checkKey(key);
    if (this.#blobs.has(key)) throw new ArtifactConflictError(`artifact ${key} already exists`);
    const chunks: Uint8Array[] = [];
    for await (const part of parts) chunks.push(part.slice());
    if (this.#blobs.has(key)) throw new ArtifactConflictError(`artifact ${key} already exists`);
    this.#blobs.set(key, concatBytes(chunks));
  }

  async stream(key: string, offset: number): Promise<ReadableStream<Uint8Array> | null> {
    checkKey(key);
    const blob = this.#blobs.get(key);
    if (!blob) return null;
    let at = offset;
    return new ReadableStream({
      pull(controller) {
        if (at >= blob.length) return controller.close();
        // Copies: a reader changing a chunk must not change the stored blob.
        controller.enqueue(blob.slice(at, at + STREAM_CHUNK_BYTES));
        at += STREAM_CHUNK_BYTES;
      },
    });
  }

  async size(key: string): Promise<number | null> {
    checkKey(key);
    return this.#blobs.get(key)?.length ?? null;
  }

  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix);
    return [...this.#blobs.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    this.#blobs.delete(key);
  }
}
