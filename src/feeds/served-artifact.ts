import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { decodeArtifact, type Manifest } from '../core/artifact.ts';
import { sha256Hex } from '../core/bytes.ts';

const gzipAsync = promisify(gzip);

/**
 * A signed artifact ready to serve: its bytes, manifest, entity tag and, for compressible payloads, a
 * gzip variant computed on first demand (off the event loop, by zlib's thread pool).
 */
export class ServedArtifact {
  #gzipped: Promise<Uint8Array | null> | undefined;

  private constructor(
    readonly bytes: Uint8Array,
    readonly manifest: Manifest,
    /**
     * Quoted hex SHA-256 of the signed header and manifest: they bind the payload through its digest and
     * name the feed, versions, dates and key, so two artifacts share a tag only when they are identical.
     */
    readonly etag: string,
    /** Whether a gzip variant is worth trying (plain-text payloads; hashed ones are incompressible). */
    readonly compressible: boolean,
  ) {}

  /** Wraps artifact bytes the hub just signed (throws if they do not decode, which would be a hub bug). */
  static async of(bytes: Uint8Array, compressible: boolean): Promise<ServedArtifact> {
    const decoded = decodeArtifact(bytes);
    if (!decoded.ok) throw new Error(`hub built an undecodable artifact: ${decoded.error.message}`);
    const etag = `"${(await sha256Hex(decoded.value.signedBytes)).slice(0, 32)}"`;
    return new ServedArtifact(bytes, decoded.value.manifest, etag, compressible);
  }

  /** The gzip encoding of the bytes, or null when the payload does not compress (a hashed feed). */
  gzipped(): Promise<Uint8Array | null> {
    this.#gzipped ??= this.compressible
      ? gzipAsync(this.bytes).then((gz) =>
          gz.length < this.bytes.length ? new Uint8Array(gz.buffer, gz.byteOffset, gz.length) : null,
        )
      : Promise.resolve(null);
    return this.#gzipped;
  }
}
