import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PrefixedSha256, sha256Node, sha256Parts, sha256Sync, sha256Words } from '../../src/core/sha256.ts';

// The pure-JS SHA-256 against node:crypto's, at every length around the padding edges (55/56/64 bytes
// per block) and at offsets inside a larger buffer, as the plain feeds' set hash reads lines in place.

const reference = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest());

/** Deterministic bytes of every value. */
function bytesOf(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

const wordsToBytes = (words: Uint32Array) => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) new DataView(out.buffer).setUint32(4 * i, words[i] as number);
  return out;
};

describe('sha256', () => {
  const buffer = bytesOf(600, 7);

  it('sha256Words equals node:crypto for every length 0..300 at several offsets', () => {
    const out = new Uint32Array(8);
    for (const offset of [0, 1, 3, 64, 201]) {
      for (let length = 0; length <= 300 && offset + length <= buffer.length; length++) {
        sha256Words(buffer, offset, offset + length, out);
        const expected = reference(buffer.subarray(offset, offset + length));
        expect(wordsToBytes(out), `offset ${offset} length ${length}`).toEqual(expected);
      }
    }
  });

  it('sha256Words equals node:crypto for long messages and for messages that end their buffer', () => {
    // Lengths of 56-63 bytes mod 64 end with a block of padding alone, whose schedule is kept per length
    // below 4 KiB and computed each time above.
    const long = bytesOf(9000, 11);
    const out = new Uint32Array(8);
    for (const length of [4095, 4151, 4152, 4159, 4160, 4216, 4223, 8999]) {
      for (const start of [0, long.length - length]) {
        sha256Words(long, start, start + length, out);
        const expected = reference(long.subarray(start, start + length));
        expect(wordsToBytes(out), `start ${start} length ${length}`).toEqual(expected);
      }
    }
  });

  it('sha256Sync, sha256Parts and sha256Node equal node:crypto', () => {
    for (const length of [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 500]) {
      const bytes = buffer.subarray(0, length);
      expect(sha256Sync(bytes)).toEqual(reference(bytes));
      expect(sha256Parts(0x00, bytes, bytes)).toEqual(reference(Uint8Array.from([0, ...bytes, ...bytes])));
    }
    const left = buffer.subarray(0, 32);
    const right = buffer.subarray(32, 64);
    expect(sha256Node(left, right)).toEqual(reference(Uint8Array.from([1, ...left, ...right])));
  });

  it('PrefixedSha256 equals node:crypto of prefix || suffix', () => {
    for (const prefixLength of [0, 1, 63, 64, 70]) {
      const prefix = buffer.subarray(0, prefixLength);
      const hasher = new PrefixedSha256(prefix);
      for (const length of [0, 5, 55, 56, 64, 200]) {
        const suffix = buffer.subarray(300, 300 + length);
        hasher.suffix().set(suffix);
        expect(hasher.digest(length)).toEqual(reference(Uint8Array.from([...prefix, ...suffix])));
      }
    }
  });

  it('sha256Words of a known vector ("abc")', () => {
    const out = new Uint32Array(8);
    sha256Words(new TextEncoder().encode('abc'), 0, 3, out);
    expect([...out].map((w) => w.toString(16).padStart(8, '0')).join('')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
