/**
 * A plain snapshot payload written line by line while a scan reads the registry in expression order: the
 * bytes (in blocks, joined once at the end), the line index and the set hash come out of one pass, so the
 * scan keeps no entry objects and never re-reads the payload to index or hash it.
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

/** What a finished writer holds: the payload and the line index `indexSnapshot` would give for it. */
export interface WrittenSnapshot {
  payload: Uint8Array;
  /** Start of every line, then the payload length. */
  starts: Uint32Array;
  entryCount: number;
}

export class SnapshotWriter {
  readonly #blocks: Uint8Array[] = [];
  #block = new Uint8Array(0);
  #used = 0;
  /** Bytes of every line written so far, flushed or not. */
  #bytes = 0;
  #starts = new Uint32Array(1 << 16);
  #lines = 0;
  #text = '';
  /** The first line of `#text`. */
  #pendingFrom = 0;
  /** Lines of `#text` whose digest also goes to `#alsoSum`. */
  readonly #shared: number[] = [];
  #previous: string | undefined;

  /**
   * `sum` gets the digest of every line (none: the writer hashes nothing), `alsoSum` that of the lines pushed
   * with `shared`: the `dns` lines are the `url` feed's domain lines byte for byte, so each is hashed once,
   * by the `url` writer, for both sums.
   */
  constructor(
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
    if (this.#lines + 1 >= this.#starts.length) {
      const grown = new Uint32Array(this.#starts.length * 2);
      grown.set(this.#starts);
      this.#starts = grown;
    }
    if (shared) this.#shared.push(this.#lines);
    // Expressions and the tail are ASCII: a line's bytes are its characters.
    this.#starts[this.#lines++] = this.#bytes;
    this.#bytes += line.length;
    this.#text += line;
    if (this.#text.length >= FLUSH_CHARS) this.#flush();
  }

  /** The payload, its index and set hash; the writer is spent. */
  finish(): WrittenSnapshot {
    this.#flush();
    const payload = new Uint8Array(this.#bytes);
    let at = 0;
    for (const block of [...this.#blocks, this.#block.subarray(0, this.#used)]) {
      payload.set(block, at);
      at += block.length;
    }
    this.#blocks.length = 0;
    this.#block = new Uint8Array(0);
    const starts = this.#starts.slice(0, this.#lines + 1);
    starts[this.#lines] = this.#bytes;
    return { payload, starts, entryCount: this.#lines };
  }

  #flush(): void {
    const text = this.#text;
    if (text.length === 0) return;
    if (this.#used + text.length > this.#block.length) {
      if (this.#used > 0) this.#blocks.push(this.#block.subarray(0, this.#used));
      this.#block = new Uint8Array(Math.max(BLOCK_BYTES, text.length));
      this.#used = 0;
    }
    const { read, written } = encoder.encodeInto(text, this.#block.subarray(this.#used));
    if (read !== text.length || written !== text.length)
      throw new PlainPayloadError('a snapshot line is not ASCII');
    if (this.sum) this.#hash(this.#block, (this.#starts[this.#pendingFrom] as number) - this.#used);
    this.#shared.length = 0;
    this.#used += written;
    this.#text = '';
    this.#pendingFrom = this.#lines;
  }

  /** Hashes the lines of the text just encoded into `block`, line i at offset starts[i] - base. */
  #hash(block: Uint8Array, base: number): void {
    const sum = this.sum as MutableSetHash;
    let shared = 0;
    for (let line = this.#pendingFrom; line < this.#lines; line++) {
      const end = line + 1 < this.#lines ? (this.#starts[line + 1] as number) : this.#bytes;
      sha256Words(block, (this.#starts[line] as number) - base, end - base, digest);
      sum.addDigest(digest);
      if (this.#shared[shared] === line) {
        this.alsoSum?.addDigest(digest);
        shared++;
      }
    }
  }
}
