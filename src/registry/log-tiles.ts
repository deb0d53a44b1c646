/**
 * The transparency log's tree stored as C2SP tlog-tiles in SQLite (`log_tiles`): tile (level, idx) holds the
 * hashes of the complete subtrees of height 8 * level with indices 256 * idx .. 256 * idx + n - 1. Appending
 * a leaf touches the last tile of each level; a node of any height is at most 127 hashes away from one
 * stored tile entry, so a proof at 10M leaves reads a handful of tiles.
 */
import type Database from 'better-sqlite3';
import { type NodeReader, treeRoot } from '../core/merkle.ts';
import { subtreeOfTile, TILE_WIDTH, tileNodeReader } from '../core/tlog-tiles.ts';

const HASH = 32;

/** Reads tiles of `log_tiles` (the statement prepared once). */
export function storedTiles(db: Database.Database): (level: number, idx: number) => Uint8Array | null {
  const select = db.prepare('SELECT hashes FROM log_tiles WHERE level = ? AND idx = ?').pluck();
  return (level, idx) => (select.get(level, idx) as Buffer | undefined) ?? null;
}

/**
 * Appends leaf hashes inside the caller's write transaction, keeping the last tile of each level in memory:
 * a tile is written when it fills, partial tiles on `flush()`. Nothing already stored is ever recomputed.
 */
export class TileAppender {
  /** Per level: the last tile's buffer, its index and how many hashes it holds. */
  private readonly tiles: Array<{ buf: Uint8Array; idx: number; width: number; dirty: boolean }> = [];
  private readonly write: Database.Statement;
  private readonly reader: NodeReader;

  constructor(
    db: Database.Database,
    public size: number,
  ) {
    this.write = db.prepare('INSERT OR REPLACE INTO log_tiles (level, idx, hashes) VALUES (?, ?, ?)');
    const stored = storedTiles(db);
    for (
      let level = 0, nodes = size;
      level === 0 || nodes > 0;
      level++, nodes = Math.floor(nodes / TILE_WIDTH)
    ) {
      const idx = Math.floor(nodes / TILE_WIDTH);
      const width = nodes % TILE_WIDTH;
      const buf = new Uint8Array(TILE_WIDTH * HASH);
      if (width > 0) {
        const tile = stored(level, idx);
        if (tile === null || tile.length < width * HASH) {
          throw new Error(
            `log tile ${level}/${idx} is missing or shorter than the tree of size ${size} needs`,
          );
        }
        buf.set(tile.subarray(0, width * HASH));
      }
      this.tiles.push({ buf, idx, width, dirty: false });
    }
    this.reader = tileNodeReader((level, idx) => {
      const t = this.tiles[level];
      return t !== undefined && t.idx === idx ? t.buf.subarray(0, t.width * HASH) : stored(level, idx);
    });
  }

  append(leafHash: Uint8Array): void {
    this.size++;
    let hash = leafHash;
    for (let level = 0; ; level++) {
      let t = this.tiles[level];
      if (t === undefined) {
        t = { buf: new Uint8Array(TILE_WIDTH * HASH), idx: 0, width: 0, dirty: false };
        this.tiles.push(t);
      }
      t.buf.set(hash, t.width * HASH);
      t.width++;
      t.dirty = true;
      if (t.width < TILE_WIDTH) return;
      // A full tile is final: store it, and its root is the next level's next entry.
      this.write.run(level, t.idx, t.buf);
      hash = subtreeOfTile(t.buf, 0, TILE_WIDTH);
      t.idx++;
      t.width = 0;
      t.dirty = false;
    }
  }

  /** Stores the partial tiles changed since the last flush. */
  flush(): void {
    for (const [level, t] of this.tiles.entries()) {
      if (!t.dirty) continue;
      this.write.run(level, t.idx, t.buf.subarray(0, t.width * HASH));
      t.dirty = false;
    }
  }

  /** The root at the current size (from the in-memory right edge). */
  root(): Uint8Array {
    return treeRoot(this.reader, this.size);
  }
}
