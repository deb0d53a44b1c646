/**
 * The `filter` state checksum (docs/FORMAT.md section 4): SHA-256 over the root key count, the sorted root heads
 * and the sorted path heads, each as 8 bytes big-endian. Where the runtime hashes a stream (workerd's
 * `crypto.DigestStream`) the bytes are hashed a chunk at a time as the keys are read, so a 10M-key state is
 * checked without its 80 MB of checksum input in memory; elsewhere (Node) they are written out and hashed once.
 */
import { sha256Hex, toHex } from './bytes.ts';

/** A source of sorted keys read a run at a time. */
export interface KeySource {
  readonly count: number;
  /** Fills `out` from its start with the next keys; how many (fewer than its length only at the end). */
  read(out: Float64Array): number;
}

/** Bytes hashed per step of a streamed checksum (and keys read per step, as 8-byte numbers). */
const CHUNK_BYTES = 1 << 18;
const TWO_32 = 2 ** 32;

interface DigestStreamLike extends WritableStream<Uint8Array> {
  readonly digest: Promise<ArrayBuffer>;
}
type DigestStreamConstructor = new (algorithm: string) => DigestStreamLike;

const streamingDigest = (globalThis.crypto as unknown as { DigestStream?: DigestStreamConstructor })
  .DigestStream;

/** Lower-case hex checksum of the keys `root` and `path` give (each read to its end). */
export function keySourcesChecksum(root: KeySource, path: KeySource): Promise<string> {
  return streamingDigest === undefined ? wholeChecksum(root, path) : streamedChecksum(root, path);
}

/** The checksum through the runtime's digest stream, a chunk at a time. */
export async function streamedChecksum(root: KeySource, path: KeySource): Promise<string> {
  if (streamingDigest === undefined) throw new TypeError('this runtime has no crypto.DigestStream');
  const input = new ChecksumInput(root, path);
  const stream = new streamingDigest('SHA-256');
  const writer = stream.getWriter();
  // One buffer, refilled once the stream has taken it: chunks left to the collector would add up to the input.
  const buffer = new Uint8Array(Math.min(CHUNK_BYTES, input.remaining));
  while (input.remaining > 0) {
    const chunk = buffer.subarray(0, Math.min(buffer.length, input.remaining));
    input.fill(chunk);
    await writer.write(chunk);
  }
  await writer.close();
  return toHex(new Uint8Array(await stream.digest));
}

/** The checksum of the whole input written out at once. */
export function wholeChecksum(root: KeySource, path: KeySource): Promise<string> {
  const input = new ChecksumInput(root, path);
  const bytes = new Uint8Array(input.remaining);
  input.fill(bytes);
  return sha256Hex(bytes);
}

/** The checksum's input bytes, written on demand: the root count, then every root key, then every path key. */
class ChecksumInput {
  /** Numbers still to write, the root count included. */
  private left: number;
  private readonly keys = new Float64Array(CHUNK_BYTES / 8);
  /** Keys of `keys` read and not yet written. */
  private start = 0;
  private end = 0;

  constructor(
    private readonly root: KeySource,
    private readonly path: KeySource,
  ) {
    this.left = 1 + root.count + path.count;
  }

  get remaining(): number {
    return this.left * 8;
  }

  /** Writes the next `out.length / 8` numbers into `out`. */
  fill(out: Uint8Array): void {
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let at = 0;
    if (this.left === 1 + this.root.count + this.path.count && out.length > 0) {
      view.setUint32(0, Math.floor(this.root.count / TWO_32));
      view.setUint32(4, this.root.count % TWO_32);
      this.left--;
      at = 8;
    }
    const keys = this.keys;
    while (at < out.length) {
      if (this.start === this.end) {
        // Root keys while more than the path count are left.
        const source = this.left > this.path.count ? this.root : this.path;
        const room = this.left > this.path.count ? this.left - this.path.count : this.left;
        const read = source.read(room < keys.length ? keys.subarray(0, room) : keys);
        if (read === 0) throw new RangeError('a key source ended before its count');
        this.start = 0;
        this.end = read;
      }
      const value = keys[this.start++] as number;
      view.setUint32(at, Math.floor(value / TWO_32));
      view.setUint32(at + 4, value % TWO_32);
      at += 8;
      this.left--;
    }
  }
}

/** The keys of a sorted array as a source. */
export function arraySource(keys: Float64Array): KeySource {
  let at = 0;
  return {
    count: keys.length,
    read: (out) => {
      const read = Math.min(out.length, keys.length - at);
      out.set(keys.subarray(at, at + read));
      at += read;
      return read;
    },
  };
}
