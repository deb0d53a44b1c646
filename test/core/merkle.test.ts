import { hash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toHex } from '../../src/core/bytes.ts';
import {
  consistencyProof,
  EMPTY_ROOT,
  hashChildren,
  hashLeaf,
  inclusionProof,
  type NodeReader,
  TreeBuilder,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../src/core/merkle.ts';
import { PrefixedSha256, sha256Node, sha256Sync, sha256Words } from '../../src/core/sha256.ts';

const VECTORS = new URL('../fixtures/merkle/testdata/', import.meta.url);

/** Every JSON file under `dir`, with its path relative to the vectors. */
function cases(dir: string): Array<[string, Record<string, unknown>]> {
  const out: Array<[string, Record<string, unknown>]> = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(new URL(rel, VECTORS))) {
      const path = `${rel}${name}`;
      if (statSync(new URL(path, VECTORS)).isDirectory()) walk(`${path}/`);
      else if (name.endsWith('.json'))
        out.push([path, JSON.parse(readFileSync(new URL(path, VECTORS), 'utf8'))]);
    }
  };
  walk(`${dir}/`);
  return out;
}

/** Base64 as the Go JSON encoder writes []byte: standard alphabet, padded; "" and null are empty. */
const b64 = (v: unknown): Uint8Array =>
  v ? (fromBase64(v as string) ?? new Uint8Array(0)) : new Uint8Array(0);
const proofOf = (v: unknown): Uint8Array[] => ((v as string[] | null) ?? []).map(b64);

/** The reference leaves of RFC 6962's test data, which the vectors' trees are built from. */
const REFERENCE_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => fromHex(h) as Uint8Array);

/** A NodeReader over all levels of a tree held in memory (the naive reference). */
function memoryTree(leaves: readonly Uint8Array[]): NodeReader {
  const levels: Uint8Array[][] = [leaves.map(hashLeaf)];
  for (let l = 0; (levels[l] as Uint8Array[]).length > 1; l++) {
    const below = levels[l] as Uint8Array[];
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < below.length; i += 2)
      up.push(hashChildren(below[i] as Uint8Array, below[i + 1] as Uint8Array));
    levels.push(up);
  }
  return (level, index) => {
    const h = levels[level]?.[index];
    if (h === undefined) throw new Error(`no complete node ${level}/${index}`);
    return h;
  };
}

/** MTH by its recursive definition in RFC 9162 section 2.1.1. */
function mth(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256Sync(new Uint8Array(0));
  if (leaves.length === 1) return hashLeaf(leaves[0] as Uint8Array);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return hashChildren(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

describe('sha256Sync', () => {
  it('matches node:crypto for every length around the block boundaries', () => {
    for (let n = 0; n < 300; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      expect(toHex(sha256Sync(bytes))).toBe(hash('sha256', bytes, 'hex'));
    }
  });

  it('hashes prefix || suffix from a kept state, and the fixed node layout, as node:crypto does', () => {
    for (const prefixLength of [0, 1, 55, 63, 64, 65, 130]) {
      const prefix = Uint8Array.from({ length: prefixLength }, (_, i) => (i * 7) & 0xff);
      const hasher = new PrefixedSha256(prefix);
      for (const n of [0, 1, 8, 55, 56, 64, 119, 200]) {
        const suffix = Uint8Array.from({ length: n }, (_, i) => (i * 13 + n) & 0xff);
        hasher.suffix().set(suffix);
        expect(toHex(hasher.digest(n))).toBe(hash('sha256', Buffer.concat([prefix, suffix]), 'hex'));
      }
    }
    const [l, r] = [sha256Sync(Uint8Array.of(1)), sha256Sync(Uint8Array.of(2))];
    expect(toHex(sha256Node(l, r))).toBe(hash('sha256', Buffer.concat([Uint8Array.of(1), l, r]), 'hex'));
  });

  it('hashes a range of a larger buffer into big-endian words, as node:crypto hashes the range', () => {
    const buffer = Uint8Array.from({ length: 400 }, (_, i) => (i * 17 + 3) & 0xff);
    const out = new Uint32Array(8);
    for (const start of [0, 1, 63]) {
      for (let n = 0; n < 140; n++) {
        sha256Words(buffer, start, start + n, out);
        const words = Array.from(out, (w) => w.toString(16).padStart(8, '0')).join('');
        expect(words).toBe(hash('sha256', buffer.subarray(start, start + n), 'hex'));
      }
    }
  });
});

describe('transparency-dev/merkle inclusion vectors', () => {
  for (const [name, c] of cases('inclusion')) {
    it(`${name}: ${c.desc} -> ${c.wantErr ? 'refused' : 'verified'}`, () => {
      const ok = verifyInclusion(
        c.leafIdx as number,
        c.treeSize as number,
        b64(c.leafHash),
        proofOf(c.proof),
        b64(c.root),
      );
      expect(ok).toBe(!c.wantErr);
    });
  }
});

describe('transparency-dev/merkle consistency vectors', () => {
  for (const [name, c] of cases('consistency')) {
    it(`${name}: ${c.desc} -> ${c.wantErr ? 'refused' : 'verified'}`, () => {
      const ok = verifyConsistency(
        c.size1 as number,
        c.size2 as number,
        proofOf(c.proof),
        b64(c.root1),
        b64(c.root2),
      );
      expect(ok).toBe(!c.wantErr);
    });
  }
});

describe('proof generation against the vectors', () => {
  const read = memoryTree(REFERENCE_LEAVES);
  it('reproduces every happy-path inclusion proof and root of the reference tree', () => {
    const happy = cases('inclusion').filter(([n]) => /^inclusion\/\d\/happy-path/.test(n));
    expect(happy.length).toBeGreaterThan(0);
    for (const [, c] of happy) {
      const size = c.treeSize as number;
      const index = c.leafIdx as number;
      expect(toHex(treeRoot(read, size))).toBe(toHex(b64(c.root)));
      expect(inclusionProof(read, index, size).map(toHex)).toEqual(proofOf(c.proof).map(toHex));
    }
  });

  it('reproduces every happy-path consistency proof of the reference tree', () => {
    const happy = cases('consistency').filter(([n]) => /^consistency\/\d\/happy-path/.test(n));
    expect(happy.length).toBeGreaterThan(0);
    for (const [, c] of happy) {
      const [first, second] = [c.size1 as number, c.size2 as number];
      expect(toHex(treeRoot(read, first))).toBe(toHex(b64(c.root1)));
      expect(toHex(treeRoot(read, second))).toBe(toHex(b64(c.root2)));
      expect(consistencyProof(read, first, second).map(toHex)).toEqual(proofOf(c.proof).map(toHex));
    }
  });

  it('has the empty root of RFC 9162 and refuses proofs outside the tree', () => {
    expect(toHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(() => inclusionProof(read, 8, 8)).toThrow(/leaf 8 is not in a tree of size 8/);
    expect(() => consistencyProof(read, 0, 8)).toThrow(/from size 0 to size 8/);
    expect(() => consistencyProof(read, 5, 4)).toThrow(RangeError);
  });
});

describe('random trees (property)', () => {
  // Distinct leaves (a leading index byte), so that no other position can hold the same hash.
  const leavesArb = fc
    .array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 70 })
    .map((leaves) => leaves.map((l, i) => Uint8Array.of(i, ...l)));

  it('TreeBuilder and treeRoot both give MTH at every size', () => {
    fc.assert(
      fc.property(leavesArb, (leaves) => {
        const read = memoryTree(leaves);
        const builder = new TreeBuilder();
        for (let n = 1; n <= leaves.length; n++) {
          builder.push(hashLeaf(leaves[n - 1] as Uint8Array));
          const want = toHex(mth(leaves.slice(0, n)));
          expect(toHex(builder.root())).toBe(want);
          expect(toHex(treeRoot(read, n))).toBe(want);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('every inclusion proof verifies, and fails for another leaf, index or root', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), (leaves, a, b) => {
        const size = 1 + (a % leaves.length);
        const index = b % size;
        const read = memoryTree(leaves);
        const root = treeRoot(read, size);
        const proof = inclusionProof(read, index, size);
        const leaf = hashLeaf(leaves[index] as Uint8Array);
        expect(verifyInclusion(index, size, leaf, proof, root)).toBe(true);
        expect(verifyInclusion(index, size, hashLeaf(Uint8Array.of(0xff, 0xff)), proof, root)).toBe(false);
        if (size > 1) expect(verifyInclusion((index + 1) % size, size, leaf, proof, root)).toBe(false);
        expect(verifyInclusion(size, size, leaf, proof, root)).toBe(false);
        expect(verifyInclusion(index, size, leaf, proof, EMPTY_ROOT)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('every consistency proof verifies, and fails against a different history', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), fc.nat(), (leaves, a, b, c) => {
        const second = 1 + (a % leaves.length);
        const first = 1 + (b % second);
        const read = memoryTree(leaves);
        const [r1, r2] = [treeRoot(read, first), treeRoot(read, second)];
        const proof = consistencyProof(read, first, second);
        expect(verifyConsistency(first, second, proof, r1, r2)).toBe(true);
        // One leaf of the first tree rewritten: its root no longer fits the second tree.
        const forged = leaves.slice();
        const at = c % first;
        forged[at] = Uint8Array.of(...(leaves[at] as Uint8Array), 0xee);
        const forgedRoot = treeRoot(memoryTree(forged), first);
        expect(verifyConsistency(first, second, proof, forgedRoot, r2)).toBe(false);
        if (proof.length > 0) {
          const tampered = proof.map((p, i) => (i === c % proof.length ? hashLeaf(p) : p));
          expect(verifyConsistency(first, second, tampered, r1, r2)).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });
});
