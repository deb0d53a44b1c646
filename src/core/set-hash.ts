/**
 * The checksum of a plain feed state (format version 2): the sum, modulo 2^256, of the SHA-256 of every
 * snapshot line (LF included), as 64 hex digits. A sum does not depend on order and takes one digest per
 * added or removed entry, so a consumer and the hub update it in proportion to a delta, not to the state.
 */
import { sha256Words } from './sha256.ts';

const digest = new Uint32Array(8);

/** A finished sum; `mutable()` starts the next one from it. */
export class SetHash {
  private constructor(readonly words: Uint32Array) {}

  static empty(): SetHash {
    return new SetHash(new Uint32Array(8));
  }

  /** A sum from its eight big-endian 32-bit words (copied). */
  static fromWords(words: Uint32Array): SetHash {
    return new SetHash(words.slice(0, 8));
  }

  /** A sum from its 64 hex digits (as `hex()` writes them); undefined when it is not that. */
  static fromHex(hex: string): SetHash | undefined {
    if (!/^[0-9a-f]{64}$/.test(hex)) return undefined;
    const words = new Uint32Array(8);
    for (let i = 0; i < 8; i++) words[i] = Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16);
    return new SetHash(words);
  }

  /** A copy that `add`/`remove` change in place (for updating the sum by many lines). */
  mutable(): MutableSetHash {
    return new MutableSetHash(this.words.slice());
  }

  hex(): string {
    let out = '';
    for (const word of this.words) out += (word >>> 0).toString(16).padStart(8, '0');
    return out;
  }
}

/** A sum being built: adds and removes lines in place, then `done()` freezes it. */
export class MutableSetHash {
  constructor(readonly words: Uint32Array = new Uint32Array(8)) {}

  /** Adds the line `bytes[start, end)`. */
  add(bytes: Uint8Array, start: number, end: number): void {
    sha256Words(bytes, start, end, digest);
    this.addDigest(digest);
  }

  /** Adds a line by its SHA-256 (eight big-endian words), computed once for several sums. */
  addDigest(lineDigest: Uint32Array): void {
    let carry = 0;
    for (let i = 7; i >= 0; i--) {
      const sum = (this.words[i] as number) + (lineDigest[i] as number) + carry;
      this.words[i] = sum >>> 0;
      carry = sum > 0xffffffff ? 1 : 0;
    }
  }

  /** Removes the line `bytes[start, end)` (that was added). */
  remove(bytes: Uint8Array, start: number, end: number): void {
    sha256Words(bytes, start, end, digest);
    let borrow = 0;
    for (let i = 7; i >= 0; i--) {
      const difference = (this.words[i] as number) - (digest[i] as number) - borrow;
      this.words[i] = difference >>> 0;
      borrow = difference < 0 ? 1 : 0;
    }
  }

  done(): SetHash {
    return SetHash.fromWords(this.words);
  }
}
