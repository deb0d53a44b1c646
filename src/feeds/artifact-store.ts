/**
 * Where signed artifacts are kept: a narrow port over immutable byte blobs, so a directory today and an
 * object store (R2) tomorrow serve the same feeds. Keys are slash-separated lower-case segments
 * (`snapshots/dns/0000000000000042.tkd`), safe as file paths and object names alike.
 */

/** Immutable blobs by key. Every implementation passes the shared contract suite. */
export interface ArtifactStore {
  /**
   * Stores `bytes` under `key`. Putting the same bytes again is a no-op; other bytes under an existing
   * key throw {@link ArtifactConflictError}: a published artifact is never rewritten in place.
   */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /**
   * Stores the finished file at `path` under `key`, as {@link put} would store its bytes, without reading it
   * whole into memory where the store can move it. On success the file is gone from `path` (moved, or
   * deleted when the key held the same bytes already); on an error it stays there, the caller's to remove.
   * `path` is best a file in {@link staging}'s directory, on the store's own filesystem.
   */
  putFile(key: string, path: string): Promise<void>;
  /**
   * A new empty directory for the files to be handed to {@link putFile}, which {@link list} never shows; the
   * caller removes it when done with it.
   */
  staging(): Promise<string>;
  /** The blob under `key`, or null. */
  get(key: string): Promise<Uint8Array | null>;
  /** The first `length` bytes of the blob under `key` (all of it when shorter), or null: a ranged read. */
  head(key: string, length: number): Promise<Uint8Array | null>;
  /**
   * Stores what `parts` yield under `key`, for blobs too large to hold at once (a gzip copy of a snapshot).
   * The key must be free: a streamed blob is not compared, so an existing one throws
   * {@link ArtifactConflictError}. Nothing is visible under `key` until every part is written.
   */
  putStream(key: string, parts: AsyncIterable<Uint8Array>): Promise<void>;
  /**
   * The blob under `key` from byte `offset` on, read as the stream is consumed, or null: what serves a
   * snapshot without holding it. Once opened, the stream reads the blob it found even if `key` is deleted.
   */
  stream(key: string, offset: number): Promise<ReadableStream<Uint8Array> | null>;
  /** Bytes of the blob under `key`, or null. */
  size(key: string): Promise<number | null>;
  /** Keys starting with `prefix`, sorted in byte order. */
  list(prefix: string): Promise<string[]>;
  /** Removes `key`; removing an absent key is a no-op. */
  delete(key: string): Promise<void>;
}

/** A key outside the allowed alphabet or shape; the message names it. */
export class ArtifactKeyError extends Error {
  override name = 'ArtifactKeyError';
}

/** Other bytes were put under a key that already holds a blob. */
export class ArtifactConflictError extends Error {
  override name = 'ArtifactConflictError';
}

/** Bytes of each chunk a store's stream yields. */
export const STREAM_CHUNK_BYTES = 1 << 20;

const KEY = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;
const MAX_KEY_LENGTH = 512;

/** Throws {@link ArtifactKeyError} unless `key` is a valid key (no `..`, no leading dot or slash). */
export function checkKey(key: string): void {
  if (key.length > MAX_KEY_LENGTH || !KEY.test(key)) {
    throw new ArtifactKeyError(`artifact key "${key.slice(0, 80)}" is not lower-case [a-z0-9._-] segments`);
  }
}

/** Throws {@link ArtifactKeyError} unless `prefix` could start a valid key. */
export function checkPrefix(prefix: string): void {
  if (prefix !== '' && !(prefix.endsWith('/') ? KEY.test(prefix.slice(0, -1)) : KEY.test(prefix))) {
    throw new ArtifactKeyError(`artifact key prefix "${prefix.slice(0, 80)}" is not a key or key directory`);
  }
}
