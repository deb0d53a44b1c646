/**
 * The C2SP tlog-tiles layout of the transparency log, as `takedown publish` writes it under `log/` so that
 * any file server or CDN serves the whole log:
 *
 *   log/checkpoint                     the latest checkpoint
 *   log/checkpoints/<version>          every version's checkpoint (this project's addition)
 *   log/tile/<L>/<N>[.p/<W>]           hash tiles: level L, index N, W hashes when partial
 *   log/tile/entries/<N>[.p/<W>]       entry bundles: 256 leaves, each a big-endian uint16 length + bytes
 *
 * N is written in groups of three digits, all but the last prefixed with "x" (1234067 -> x001/x234/067).
 */
import { hashChildren, type NodeReader } from './merkle.ts';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;
const HASH = 32;

/** The path element of tile index `n`. */
function tileIndexPath(n: number): string {
  const digits = String(n).padStart(3, '0');
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 3)
    groups.unshift(digits.slice(Math.max(0, end - 3), end).padStart(3, '0'));
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

const suffix = (width: number) => (width === TILE_WIDTH ? '' : `.p/${width}`);

/** The path of hash tile (level, n) holding `width` hashes. */
export const hashTilePath = (level: number, n: number, width: number): string =>
  `tile/${level}/${tileIndexPath(n)}${suffix(width)}`;

/** The path of entry bundle n holding `width` leaves. */
export const entryBundlePath = (n: number, width: number): string =>
  `tile/entries/${tileIndexPath(n)}${suffix(width)}`;

/** The tiles a tree of `size` leaves consists of: [level, index, width] of each (full and partial). */
export function tilesOf(size: number): Array<[level: number, index: number, width: number]> {
  const out: Array<[number, number, number]> = [];
  for (let level = 0, nodes = size; nodes > 0; level++, nodes = Math.floor(nodes / TILE_WIDTH)) {
    for (let n = 0; n * TILE_WIDTH < nodes; n++)
      out.push([level, n, Math.min(TILE_WIDTH, nodes - n * TILE_WIDTH)]);
  }
  return out;
}

/** An entry bundle of `leaves` (each at most 65535 bytes). */
export function encodeBundle(leaves: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const l of leaves) length += 2 + l.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const l of leaves) {
    if (l.length > 0xffff) throw new RangeError(`a leaf of ${l.length} bytes does not fit an entry bundle`);
    out[at] = l.length >>> 8;
    out[at + 1] = l.length & 0xff;
    out.set(l, at + 2);
    at += 2 + l.length;
  }
  return out;
}

/** The leaves of an entry bundle; throws RangeError when a length runs past its end. */
export function decodeBundle(bundle: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bundle.length; ) {
    if (at + 2 > bundle.length) throw new RangeError('entry bundle ends inside a length');
    const n = ((bundle[at] as number) << 8) | (bundle[at + 1] as number);
    if (at + 2 + n > bundle.length) throw new RangeError('entry bundle ends inside a leaf');
    out.push(bundle.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  }
  return out;
}

/** The root of `span` (a power of two) consecutive hashes of `tile` starting at entry `offset`. */
export function subtreeOfTile(tile: Uint8Array, offset: number, span: number): Uint8Array {
  if (span === 1) return tile.slice(offset * HASH, (offset + 1) * HASH);
  const half = span / 2;
  return hashChildren(subtreeOfTile(tile, offset, half), subtreeOfTile(tile, offset + half, half));
}

/**
 * Complete-subtree hashes from hash tiles, loaded through `load` (null when the tile does not exist): tile
 * (level, idx) holds the hashes of the nodes of height 8 * level with indices 256 * idx .. 256 * idx + n - 1.
 */
export function tileNodeReader(load: (level: number, idx: number) => Uint8Array | null): NodeReader {
  return (height, index) => {
    const level = Math.floor(height / TILE_HEIGHT);
    const span = 2 ** (height % TILE_HEIGHT);
    const first = index * span;
    const idx = Math.floor(first / TILE_WIDTH);
    const offset = first % TILE_WIDTH;
    const tile = load(level, idx);
    if (tile === null || tile.length < (offset + span) * HASH) {
      throw new Error(`the log's tiles lack the subtree of height ${height} at ${index}`);
    }
    return subtreeOfTile(tile, offset, span);
  };
}
