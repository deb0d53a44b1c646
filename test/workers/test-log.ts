/**
 * A small transparency log for the edge tests: leaves, signed checkpoints, and the tiles `takedown publish`
 * writes under `log/` (Web standards only, so it runs inside workerd).
 */
import { concatBytes, utf8 } from '../../src/core/bytes.ts';
import { signCheckpoint } from '../../src/core/checkpoint.ts';
import type { SigningKey } from '../../src/core/keys.ts';
import { hashLeaf, TreeBuilder } from '../../src/core/merkle.ts';
import { hashTilePath, TILE_WIDTH } from '../../src/core/tlog-tiles.ts';

export class TestLog {
  readonly leaves: Uint8Array[] = [];
  readonly #sizes = new Map<number, number>();

  constructor(private readonly key: SigningKey) {}

  /** Appends the leaf of `version`. */
  append(version: number, text = `version ${version}`): void {
    this.leaves.push(utf8(text));
    this.#sizes.set(version, this.leaves.length);
  }

  /** Changes an old leaf, as a hub rewriting its history would. */
  rewrite(index: number, text: string): void {
    this.leaves[index] = utf8(text);
  }

  /** The signed checkpoint of `version` over the leaves as they are now. */
  checkpoint(version: number): Promise<string> {
    const treeSize = this.#sizes.get(version);
    if (treeSize === undefined) throw new Error(`the test log has no version ${version}`);
    const tree = new TreeBuilder();
    for (const leaf of this.leaves.slice(0, treeSize)) tree.push(hashLeaf(leaf));
    return signCheckpoint({ origin: 'takedown', treeSize, root: tree.root(), version }, this.key);
  }

  /** The files of `log/` at `version` (one level of tiles: a test log stays under 256 leaves). */
  async files(version: number): Promise<Array<[path: string, body: Uint8Array | string]>> {
    const size = this.#sizes.get(version) as number;
    if (size > TILE_WIDTH) throw new Error('the test log writes one level of tiles');
    const hashes = concatBytes(this.leaves.slice(0, size).map(hashLeaf));
    return [
      ['log/checkpoint', await this.checkpoint(version)],
      [`log/${hashTilePath(0, 0, size)}`, hashes],
    ];
  }
}
