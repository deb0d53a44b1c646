/**
 * A plain snapshot payload written line by line while a scan reads the registry in expression order: the
 * bytes go out block by block to a sink (a file), and the set hash comes out of the same pass, so the scan
 * holds one block of the payload, keeps no entry objects and never re-reads the payload to hash it.
 */
import { compareExpressions, PlainPayloadError } from '../core/plain-payload.ts';
import type { MutableSetHash } from '../core/set-hash.ts';
import { sha256Words } from '../core/sha256.ts';

/** Bytes of one block; a block holds whole flushes, so every line lies inside one block. */
const BLOCK_BYTES = 1 << 22;
/** Characters of text gathered before they are encoded into a block. */
const FLUSH_CHARS = 1 << 16;
const encoder = new TextEncoder();
const digest = new Uint32Array(8);

/** Takes each finished block of the payload, in order; the block is reused once it returns. */
export type BlockSink = (block: Uint8Array) => void;

/** What a finished writer wrote. */
export interface WrittenSnapshot {
  entryCount: number;
  /** Payload bytes. */
  length: number;
}

export class SnapshotWriter {
  #block = new Uint8Array(0);
  #used = 0;
  /** Bytes of every line written so far, flushed or not. */
  #bytes = 0;
  #lines = 0;
  #text = '';
  /** Where each line of `#text` starts in it. */
  readonly #pendingStarts: number[] = [];
  /** Indexes (in `#pendingStarts`) of the lines whose digest also goes to `alsoSum`. */
  readonly #shared: number[] = [];
  #previous: string | undefined;

  /**
   * `sink` gets the payload's blocks. `sum` gets the digest of every line (none: the writer hashes nothing),
   * `alsoSum` that of the lines pushed with `shared`: the `dns` lines are the `url` feed's domain lines byte
   * for byte, so each is hashed once, by the `url` writer, for both sums.
   */
  constructor(
    private readonly sink: BlockSink,
    private readonly sum: MutableSetHash | null,
    private readonly alsoSum?: MutableSetHash,
  ) {}

  /**
   * Appends the snapshot line (`snapshotLine`, LF included) of `expression`, which must sort after the
   * previous one; throws PlainPayloadError otherwise (a registry read out of order is a bug).
   */
  push(expression: string, line: string, shared = false): void {
    if (this.#previous !== undefined && compareExpressions(this.#previous, expression) >= 0)
      throw new PlainPayloadError(
        `entries not sorted or duplicated: "${expression}" after "${this.#previous}"`,
      );
    this.#previous = expression;
    if (shared) this.#shared.push(this.#pendingStarts.length);
    // Expressions and the tail are ASCII: a line's bytes are its characters.
    this.#pendingStarts.push(this.#text.length);
    this.#lines++;
    this.#bytes += line.length;
    this.#text += line;
    if (this.#text.length >= FLUSH_CHARS) this.#flush();
  }

  /** Hands the last block to the sink; the writer is spent. */
  finish(): WrittenSnapshot {
    this.#flush();
    if (this.#used > 0) this.sink(this.#block.subarray(0, this.#used));
    this.#block = new Uint8Array(0);
    this.#used = 0;
    return { entryCount: this.#lines, length: this.#bytes };
  }

  #flush(): void {
    const text = this.#text;
    if (text.length === 0) return;
    if (this.#used + text.length > this.#block.length) {
      if (this.#used > 0) this.sink(this.#block.subarray(0, this.#used));
      if (text.length > this.#block.length) this.#block = new Uint8Array(Math.max(BLOCK_BYTES, text.length));
      this.#used = 0;
    }
    const { read, written } = encoder.encodeInto(text, this.#block.subarray(this.#used));
    if (read !== text.length || written !== text.length)
      throw new PlainPayloadError('a snapshot line is not ASCII');
    if (this.sum) this.#hash(this.#block, this.#used, this.#used + written);
    this.#pendingStarts.length = 0;
    this.#shared.length = 0;
    this.#used += written;
    this.#text = '';
  }

  /** Hashes the lines of the text just encoded into `block[from, to)`. */
  #hash(block: Uint8Array, from: number, to: number): void {
    const sum = this.sum as MutableSetHash;
    const starts = this.#pendingStarts;
    let shared = 0;
    for (let line = 0; line < starts.length; line++) {
      const end = line + 1 < starts.length ? from + (starts[line + 1] as number) : to;
      sha256Words(block, from + (starts[line] as number), end, digest);
      sum.addDigest(digest);
      if (this.#shared[shared] === line) {
        this.alsoSum?.addDigest(digest);
        shared++;
      }
    }
  }
}
