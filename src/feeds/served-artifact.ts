import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { promisify } from 'node:util';
import { createGzip, gzip } from 'node:zlib';
import { decodeArtifact, type Manifest, payloadOffsetOf, signedLengthOf } from '../core/artifact.ts';
import { concatBytes, sha256Hex } from '../core/bytes.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { GZIP_HEADER_BYTES, GZIP_TRAILER_BYTES, joinGzip } from './gzip-join.ts';

const gzipAsync = promisify(gzip);

/** Bytes to send: their length first (Content-Length), then a stream of them. */
export interface ArtifactBody {
  readonly length: number;
  /** The bytes; null when a stored blob they come from is gone (a snapshot pruned meanwhile). */
  open(): Promise<ReadableStream<Uint8Array> | null>;
}

/**
 * A signed artifact ready to serve: its head (header, manifest, signature), manifest, entity tag and
 * bytes, and for compressible payloads a gzip variant computed on first demand, off the event loop.
 */
export interface ServedArtifact extends ArtifactBody {
  readonly head: Uint8Array;
  readonly manifest: Manifest;
  /**
   * Quoted hex SHA-256 of the signed header and manifest: they bind the payload through its digest and
   * name the feed, versions, dates and key, so two artifacts share a tag only when they are identical.
   */
  readonly etag: string;
  /** Whether a gzip variant is worth trying (plain-text payloads; hashed ones are incompressible). */
  readonly compressible: boolean;
  /** The gzip encoding, or null when the payload does not compress (a hashed feed). */
  gzipped(): Promise<ArtifactBody | null>;
  /** Every byte at once: for small artifacts and tests. */
  readAll(): Promise<Uint8Array>;
}

const etagOf = async (head: Uint8Array) =>
  `"${(await sha256Hex(head.subarray(0, signedLengthOf(head)))).slice(0, 32)}"`;

/** An artifact held in memory (a delta: small, built on request and cached). */
export class HeldArtifact implements ServedArtifact {
  #gzipped: Promise<ArtifactBody | null> | undefined;

  private constructor(
    readonly bytes: Uint8Array,
    readonly manifest: Manifest,
    readonly etag: string,
    readonly compressible: boolean,
  ) {}

  /** Wraps artifact bytes the hub just signed (throws if they do not decode, which would be a hub bug). */
  static async of(bytes: Uint8Array, compressible: boolean): Promise<HeldArtifact> {
    const decoded = decodeArtifact(bytes);
    if (!decoded.ok) throw new Error(`hub built an undecodable artifact: ${decoded.error.message}`);
    return new HeldArtifact(bytes, decoded.value.manifest, await etagOf(bytes), compressible);
  }

  get head(): Uint8Array {
    return this.bytes.subarray(0, payloadOffsetOf(this.bytes));
  }

  get length(): number {
    return this.bytes.length;
  }

  open(): Promise<ReadableStream<Uint8Array>> {
    return Promise.resolve(streamOf([this.bytes]));
  }

  readAll(): Promise<Uint8Array> {
    return Promise.resolve(this.bytes);
  }

  gzipped(): Promise<ArtifactBody | null> {
    this.#gzipped ??= this.compressible
      ? gzipAsync(this.bytes).then((gz) => (gz.length < this.bytes.length ? heldBody(gz) : null))
      : Promise.resolve(null);
    return this.#gzipped;
  }
}

/** Where a stored artifact's payload lies: `key` from byte `offset`, and the key of its cached gzip. */
export interface StoredPayload {
  store: ArtifactStore;
  key: string;
  offset: number;
  /** Holds the payload's gzip once the first gzip client asked (see gzip-join.ts); removed with `key`. */
  gzipKey: string;
}

/**
 * A snapshot served from the artifact store: only its head is held; its payload is read from the stored
 * file as it is sent, and its gzip variant is the payload's gzip (made once, kept in the store) behind the
 * head's (see gzip-join.ts).
 */
export class StoredArtifact implements ServedArtifact {
  #gzipped: Promise<ArtifactBody | null> | undefined;

  private constructor(
    readonly head: Uint8Array,
    readonly manifest: Manifest,
    readonly etag: string,
    readonly compressible: boolean,
    private readonly payload: StoredPayload,
  ) {}

  /** `head`: the signed head (its bytes up to the payload) of an artifact whose payload is stored. */
  static async of(head: Uint8Array, payload: StoredPayload, compressible: boolean): Promise<StoredArtifact> {
    const decoded = decodeArtifact(head);
    if (!decoded.ok) throw new Error(`hub built an undecodable artifact head: ${decoded.error.message}`);
    const own = head.slice(0, payloadOffsetOf(head));
    return new StoredArtifact(own, decoded.value.manifest, await etagOf(own), compressible, payload);
  }

  get length(): number {
    return this.head.length + this.manifest.payloadLength;
  }

  async open(): Promise<ReadableStream<Uint8Array> | null> {
    const { store, key, offset } = this.payload;
    const payload = await store.stream(key, offset);
    return payload && streamOf([this.head, { stream: payload, length: this.manifest.payloadLength }]);
  }

  async readAll(): Promise<Uint8Array> {
    const stream = await this.open();
    if (!stream) throw new Error(`stored artifact ${this.payload.key} is gone`);
    return readStream(stream);
  }

  gzipped(): Promise<ArtifactBody | null> {
    if (!this.compressible) return Promise.resolve(null);
    this.#gzipped ??= this.#joinedGzip();
    const current = this.#gzipped;
    // A failure (the snapshot pruned meanwhile, a full disk) is not kept, and this client gets the identity
    // answer, which is as good: the next one tries again.
    return current.catch(() => {
      if (this.#gzipped === current) this.#gzipped = undefined;
      return null;
    });
  }

  async #joinedGzip(): Promise<ArtifactBody | null> {
    const { store, gzipKey } = this.payload;
    const size = (await store.size(gzipKey)) ?? (await payloadGzip(this.payload));
    if (size === null) return null;
    const trailerStream = await store.stream(gzipKey, size - GZIP_TRAILER_BYTES);
    if (!trailerStream) return null;
    const { prefix, trailer } = joinGzip(
      this.head,
      await readStream(trailerStream),
      this.manifest.payloadLength,
    );
    const deflated = size - GZIP_HEADER_BYTES - GZIP_TRAILER_BYTES;
    return {
      length: prefix.length + deflated + trailer.length,
      open: async () => {
        const stream = await store.stream(gzipKey, GZIP_HEADER_BYTES);
        return stream && streamOf([prefix, { stream, length: deflated }, trailer]);
      },
    };
  }
}

/** Compressions in progress, per store and gzip key: artifacts re-signed meanwhile share one. */
const compressing = new WeakMap<ArtifactStore, Map<string, Promise<number | null>>>();

/** Compresses a stored payload into its gzip key (on zlib's thread pool); its size, or null when gone. */
function payloadGzip({ store, key, offset, gzipKey }: StoredPayload): Promise<number | null> {
  const running = compressing.get(store) ?? new Map<string, Promise<number | null>>();
  compressing.set(store, running);
  let compression = running.get(gzipKey);
  if (!compression) {
    compression = (async () => {
      const payload = await store.stream(key, offset);
      if (!payload) return null;
      // zlib's Node stream on its thread pool: it waits for the store to take each piece, where the web
      // CompressionStream read the whole payload ahead (hundreds of MB at 10M entries).
      await store.putStream(gzipKey, Readable.fromWeb(payload as WebReadableStream).pipe(createGzip()));
      return store.size(gzipKey);
    })().finally(() => running.delete(gzipKey));
    running.set(gzipKey, compression);
  }
  return compression;
}

const heldBody = (bytes: Uint8Array): ArtifactBody => ({
  length: bytes.length,
  open: () => Promise.resolve(streamOf([bytes])),
});

/** Parts one after another: bytes, or the first `length` bytes of a stream (the rest is cancelled). */
function streamOf(
  parts: readonly (Uint8Array | { stream: ReadableStream<Uint8Array>; length: number })[],
): ReadableStream<Uint8Array> {
  let index = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let left = 0;
  // A client gone mid-answer: every stream not read to its end is cancelled, which closes its file.
  const cancelRest = async (reason?: unknown) => {
    await reader?.cancel(reason);
    for (const part of parts.slice(reader ? index + 1 : index))
      if (!(part instanceof Uint8Array)) await part.stream.cancel(reason);
  };
  return new ReadableStream({
    async pull(controller) {
      for (;;) {
        const part = parts[index];
        if (!part) return controller.close();
        if (part instanceof Uint8Array) {
          index++;
          if (part.length > 0) return controller.enqueue(part);
          continue;
        }
        if (!reader) {
          reader = part.stream.getReader();
          left = part.length;
        }
        const { done, value } = left > 0 ? await reader.read() : { done: true, value: undefined };
        if (done || !value) {
          if (left > 0) return controller.error(new Error(`stored blob ended ${left} bytes early`));
          await reader.cancel();
          reader = undefined;
          index++;
          continue;
        }
        const chunk = value.length > left ? value.subarray(0, left) : value;
        left -= chunk.length;
        return controller.enqueue(chunk);
      }
    },
    cancel: cancelRest,
  });
}

async function readStream(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return concatBytes(chunks);
}
