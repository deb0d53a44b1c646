/**
 * One gzip member of `head ‖ payload` made from a gzip of the payload alone, without recompressing it: a
 * re-signed snapshot has a new header over the same payload, so the payload is compressed once per
 * snapshot and every re-signing costs a few hundred bytes. The head is deflated ending with a sync flush
 * (byte-aligned, not final), the payload's deflate blocks follow as they are (they refer to nothing
 * before them), and the trailer's CRC-32 is combined from both parts' (zlib's crc32_combine). One member,
 * not two concatenated: some clients (curl) decode only the first member of a gzip body.
 */
import { constants, deflateRawSync } from 'node:zlib';

/** A gzip header with no name, no time and an unknown OS, as zlib writes it for a stream. */
const HEADER = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff);
/** Bytes of zlib's gzip header (no optional fields) and of every gzip trailer. */
export const GZIP_HEADER_BYTES = 10;
export const GZIP_TRAILER_BYTES = 8;

/** How to write `head ‖ payload` as one gzip member around the payload's own deflate blocks. */
export interface JoinedGzip {
  /** The gzip header and the deflated head: send first. */
  prefix: Uint8Array;
  /** Then bytes [GZIP_HEADER_BYTES, length - GZIP_TRAILER_BYTES) of the payload's gzip, then this. */
  trailer: Uint8Array;
}

/**
 * The parts around a payload's gzip (`payloadTrailer`: its last 8 bytes, CRC-32 then length mod 2^32,
 * little-endian) that make one gzip member of `head ‖ payload`.
 */
export function joinGzip(head: Uint8Array, payloadTrailer: Uint8Array, payloadLength: number): JoinedGzip {
  const deflated = deflateRawSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
  const prefix = new Uint8Array(HEADER.length + deflated.length);
  prefix.set(HEADER);
  prefix.set(deflated, HEADER.length);
  const payloadCrc = new DataView(payloadTrailer.buffer, payloadTrailer.byteOffset, 8).getUint32(0, true);
  const trailer = new Uint8Array(GZIP_TRAILER_BYTES);
  const view = new DataView(trailer.buffer);
  view.setUint32(0, crc32Combine(crc32(head), payloadCrc, payloadLength), true);
  view.setUint32(4, (head.length + payloadLength) % 2 ** 32, true);
  return { prefix, trailer };
}

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC-32 (gzip's) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The CRC-32 of `a ‖ b` from those of `a` and `b` and b's length (zlib's crc32_combine, GF(2) matrices). */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB <= 0) return crcA >>> 0;
  const times = (matrix: Uint32Array, vector: number) => {
    let sum = 0;
    for (let i = 0; vector !== 0; i++, vector >>>= 1) if (vector & 1) sum ^= matrix[i] as number;
    return sum >>> 0;
  };
  const square = (into: Uint32Array, matrix: Uint32Array) => {
    for (let n = 0; n < 32; n++) into[n] = times(matrix, matrix[n] as number);
  };
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  // The operator for one zero bit, then two, then four.
  odd[0] = 0xedb88320;
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row >>> 0;
  square(even, odd);
  square(odd, even);
  let crc = crcA >>> 0;
  let length = lengthB;
  // Apply len(b) zero bytes to crc(a), one bit of the length at a time.
  do {
    square(even, odd);
    if (length % 2) crc = times(even, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
    square(odd, even);
    if (length % 2) crc = times(odd, crc);
    length = Math.floor(length / 2);
  } while (length !== 0);
  return (crc ^ crcB) >>> 0;
}
