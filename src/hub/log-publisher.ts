/**
 * Writes the transparency log as static C2SP tiles (src/core/tlog-tiles.ts) under `outDir/log/`. Full tiles
 * and bundles never change, so one already there is kept; partial ones get new names as they grow. Every
 * file is written to a temporary name and renamed; the latest checkpoint goes last, so a reader that sees
 * it finds every tile it needs.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CheckpointSource } from '../core/checkpoint.ts';
import { encodeBundle, entryBundlePath, hashTilePath, TILE_WIDTH, tilesOf } from '../core/tlog-tiles.ts';
import type { Registry } from '../registry/registry.ts';
import { writeFileDurably } from '../util/durable-file.ts';

const HASH = 32;

async function write(path: string, data: Uint8Array | string, immutable: boolean): Promise<void> {
  if (immutable && (await stat(path).catch(() => null)) !== null) return;
  await mkdir(dirname(path), { recursive: true });
  await writeFileDurably(path, data, { mode: 0o644 });
}

/** Publishes the log at its latest version; returns that version and tree size (null: empty log). */
export async function publishLog(
  registry: Registry,
  checkpoint: CheckpointSource,
  outDir: string,
): Promise<{ version: number; treeSize: number } | null> {
  const latest = await checkpoint();
  if (latest === null) return null;
  const root = join(outDir, 'log');
  const size = latest.treeSize;
  for (const [level, n, width] of tilesOf(size)) {
    const tile = registry.logTile(level, n);
    if (tile === null || tile.length < width * HASH) throw new Error(`log tile ${level}/${n} is missing`);
    await write(join(root, hashTilePath(level, n, width)), tile.subarray(0, width * HASH), true);
  }
  for (let n = 0; n * TILE_WIDTH < size; n++) {
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
    const path = join(root, entryBundlePath(n, width));
    if ((await stat(path).catch(() => null)) !== null) continue;
    await write(path, encodeBundle(registry.logLeaves(n * TILE_WIDTH, width)), true);
  }
  for (let v = 1; v <= latest.version; v++) {
    const c = await checkpoint(v);
    if (c !== null) await write(join(root, 'checkpoints', String(v)), c.note, true);
  }
  await write(join(root, 'checkpoint'), latest.note, false);
  return { version: latest.version, treeSize: size };
}
