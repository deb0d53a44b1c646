import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toBase64, utf8 } from '../../src/core/bytes.ts';
import { type Checkpoint, signCheckpoint } from '../../src/core/checkpoint.ts';
import { generateSigningKey } from '../../src/core/keys.ts';
import {
  type ConsistencySource,
  checkLogAdvance,
  type HeldCheckpoint,
  proofFromAnswer,
  tileConsistencySource,
} from '../../src/core/log-consistency.ts';
import {
  consistencyProof,
  hashChildren,
  hashLeaf,
  type NodeReader,
  treeRoot,
} from '../../src/core/merkle.ts';
import { TILE_WIDTH } from '../../src/core/tlog-tiles.ts';
import { fail } from '../../src/core/types.ts';

const key = await generateSigningKey();
const keys = [key.publicKey];

/** A log of `n` leaves whose leaf `i` reads `text(i)`. */
function log(n: number, text = (i: number) => `leaf ${i}`) {
  const leaves = Array.from({ length: n }, (_, i) => utf8(text(i)));
  const nodes: NodeReader = (level, index) =>
    level === 0
      ? hashLeaf(leaves[index] as Uint8Array)
      : hashChildren(nodes(level - 1, 2 * index), nodes(level - 1, 2 * index + 1));
  const head = async (version: number, size: number): Promise<HeldCheckpoint> => {
    const c: Checkpoint = { origin: 'takedown', treeSize: size, root: treeRoot(nodes, size), version };
    return { ...c, note: await signCheckpoint(c, key) };
  };
  const proofs: ConsistencySource = async (older, newer) => ({
    ok: true,
    value: consistencyProof(nodes, older.treeSize, newer.treeSize),
  });
  return { leaves, nodes, head, proofs };
}

const unused: ConsistencySource = async () => {
  throw new Error('no proof should be asked for');
};

describe('checkLogAdvance', () => {
  it('holds the first checkpoint on its signature, then each one its proof extends', async () => {
    const l = log(40);
    const first = await l.head(3, 10);
    expect(await checkLogAdvance(null, first.note, 3, keys, unused)).toEqual({ ok: true, value: first });
    const next = await l.head(5, 40);
    expect(await checkLogAdvance(first, next.note, 5, keys, l.proofs)).toEqual({ ok: true, value: next });
  });

  it('asks for no proof when the size did not change, and needs the same root then', async () => {
    const l = log(8);
    const held = await l.head(4, 8);
    expect((await checkLogAdvance(held, (await l.head(5, 8)).note, 5, keys, unused)).ok).toBe(true);
    const forked = await log(8, (i) => (i === 2 ? 'slipped in' : `leaf ${i}`)).head(5, 8);
    expect(await checkLogAdvance(held, forked.note, 5, keys, unused)).toMatchObject({
      ok: false,
      error: { code: 'log_inconsistent' },
    });
  });

  it('refuses a rewritten history, a shrunk log, another origin, a foreign signature and a lost checkpoint', async () => {
    const l = log(20);
    const held = await l.head(2, 10);
    const rewritten = log(20, (i) => (i === 3 ? 'rewritten' : `leaf ${i}`));
    const code = async (note: string, proofs: ConsistencySource = rewritten.proofs) => {
      const r = await checkLogAdvance(held, note, 3, keys, proofs);
      return r.ok ? 'ok' : r.error.code;
    };
    expect(await code((await rewritten.head(3, 20)).note)).toBe('log_inconsistent');
    expect(await code((await l.head(3, 9)).note)).toBe('log_inconsistent');
    const other = { origin: 'elsewhere', treeSize: 20, root: treeRoot(l.nodes, 20), version: 3 };
    expect(await code(await signCheckpoint(other, key))).toBe('checkpoint_invalid');
    const foreign = { ...other, origin: 'takedown' };
    expect(await code(await signCheckpoint(foreign, await generateSigningKey()))).toBe('checkpoint_invalid');
    expect(await code('')).toBe('checkpoint_missing');
    const down: ConsistencySource = async () => fail('proof_unavailable', 'down');
    expect(await code((await l.head(3, 20)).note, down)).toBe('proof_unavailable');
    // Without a held checkpoint an artifact without one (format 1) passes, as before the log; with one, only
    // an artifact older than the held checkpoint does (the hub's empty version 0), keeping the held one.
    expect(await checkLogAdvance(null, '', 3, keys, unused)).toEqual({ ok: true, value: null });
    expect(await checkLogAdvance(held, '', 0, keys, unused)).toEqual({ ok: true, value: held });
  });

  it("refuses a hub answer that names other roots than the held checkpoints'", async () => {
    const l = log(6);
    const [a, b] = [await l.head(1, 3), await l.head(2, 6)];
    const proof = consistencyProof(l.nodes, 3, 6).map(toBase64);
    const side = (c: Checkpoint) => ({
      version: c.version,
      treeSize: c.treeSize,
      rootHash: toBase64(c.root),
    });
    expect(proofFromAnswer({ from: side(a), to: side(b), proof }, a, b).ok).toBe(true);
    const lying = { from: { ...side(a), rootHash: toBase64(new Uint8Array(32)) }, to: side(b), proof };
    expect(proofFromAnswer(lying, a, b)).toMatchObject({ ok: false, error: { code: 'log_inconsistent' } });
    expect(proofFromAnswer({ proof: 'x' }, a, b)).toMatchObject({
      ok: false,
      error: { code: 'proof_unavailable' },
    });
  });
});

describe('tileConsistencySource', () => {
  it('gives the proof merkle.ts computes, from hash tiles of a larger published tree', async () => {
    const size = 3 * TILE_WIDTH + 70;
    const hashes = Array.from({ length: size }, (_, i) => hashLeaf(utf8(`leaf ${i}`)));
    const level1: Uint8Array[] = [];
    for (let i = 0; i + TILE_WIDTH <= size; i += TILE_WIDTH) {
      const nodes: NodeReader = (h, idx) =>
        h === 0
          ? (hashes[i + idx] as Uint8Array)
          : hashChildren(nodes(h - 1, 2 * idx), nodes(h - 1, 2 * idx + 1));
      level1.push(nodes(8, 0));
    }
    const tile = (row: Uint8Array[], level: number, index: number) => {
      const width = Math.min(TILE_WIDTH, Math.floor(size / TILE_WIDTH ** level) - index * TILE_WIDTH);
      return width > 0 ? concatBytes(row.slice(index * TILE_WIDTH, index * TILE_WIDTH + width)) : null;
    };
    const loaded: string[] = [];
    const source = tileConsistencySource(async (level, index) => {
      loaded.push(`${level}/${index}`);
      return tile(level === 0 ? hashes : level1, level, index);
    });
    const reference: NodeReader = (level, index) =>
      level === 0
        ? (hashes[index] as Uint8Array)
        : hashChildren(reference(level - 1, 2 * index), reference(level - 1, 2 * index + 1));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: size }), fc.integer({ min: 0, max: size }), async (a, b) => {
        const [m, n] = a <= b ? [a, b] : [b === 0 ? 1 : b, a];
        const older = { origin: 'takedown', treeSize: m, root: new Uint8Array(32), version: 1 };
        const newer = { ...older, treeSize: n, version: 2 };
        const proof = await source(older, newer);
        expect(proof).toEqual({ ok: true, value: consistencyProof(reference, m, n) });
      }),
      { numRuns: 50 },
    );
    // A proof reads a handful of tiles, not the log.
    expect(new Set(loaded).size).toBeLessThan(7);
  });
});
