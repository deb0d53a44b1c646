/**
 * Auditing a transparency log with nothing but the public key: recompute the tree from every leaf, check
 * every version's checkpoint against it, and check that every change points at an order the log created
 * earlier (and, for an add, has not ended). Works over any `LogSource`: the hub's API or published tiles.
 */

import { equalBytes, toHex } from './bytes.ts';
import { type Checkpoint, verifyCheckpoint } from './checkpoint.ts';
import type { PublicKey } from './keys.ts';
import { decodeLeaf, isChangeLeaf } from './log-leaf.ts';
import { hashLeaf, TreeBuilder, verifyInclusion } from './merkle.ts';

/** Where the log is read from. */
export interface LogSource {
  /** The latest checkpoint note. */
  latestCheckpoint(): Promise<string>;
  /** The checkpoint note of `version`, null when there is none. */
  checkpoint(version: number): Promise<string | null>;
  /** Leaves `start` .. `start + count - 1` (fewer only at the end of what the source has). */
  leaves(start: number, count: number): Promise<Uint8Array[]>;
  /** An inclusion proof, when the source serves them (to name the bad leaf of a rewritten range). */
  inclusionProof?(version: number, leaf: number): Promise<Uint8Array[] | null>;
}

export interface AuditReport {
  ok: boolean;
  /** Leaves and checkpoints checked. */
  leaves: number;
  versions: number;
  /** The first bad leaf (its index), when one is to blame. */
  badLeaf?: number;
  reason?: string;
}

const PAGE = 1000;

/**
 * Audits the log of `source`. `pinned` are checkpoints seen earlier (from an artifact, a witness, an older
 * audit): the log must still contain their trees, which catches a history rewritten and re-signed with the
 * hub's own key.
 */
export async function auditLog(
  source: LogSource,
  keys: readonly PublicKey[],
  pinned: readonly string[] = [],
): Promise<AuditReport> {
  const fail = (leaves: number, versions: number, reason: string, badLeaf?: number): AuditReport => ({
    ok: false,
    leaves,
    versions,
    reason,
    ...(badLeaf !== undefined && { badLeaf }),
  });
  const latest = await verifyCheckpoint(await source.latestCheckpoint(), keys);
  if (!latest.ok) return fail(0, 0, `latest checkpoint: ${latest.error.message}`);
  const checkpoints: Checkpoint[] = [];
  for (let v = 1; v <= latest.value.version; v++) {
    const text = await source.checkpoint(v);
    if (text === null) return fail(0, v - 1, `no checkpoint of version ${v}`);
    const c = await verifyCheckpoint(text, keys);
    if (!c.ok) return fail(0, v - 1, `checkpoint of version ${v}: ${c.error.message}`);
    if (c.value.version !== v)
      return fail(0, v - 1, `checkpoint asked for version ${v} is of ${c.value.version}`);
    const before = checkpoints[v - 2]?.treeSize ?? 0;
    if (c.value.treeSize < before)
      return fail(0, v - 1, `version ${v} has a smaller tree than version ${v - 1}`);
    checkpoints.push(c.value);
  }
  const extra: Checkpoint[] = [];
  for (const text of pinned) {
    const c = await verifyCheckpoint(text, keys);
    if (!c.ok) return fail(0, 0, `pinned checkpoint: ${c.error.message}`);
    extra.push(c.value);
  }

  const size = latest.value.treeSize;
  const tree = new TreeBuilder();
  const orders = new Map<number, { reference: string; authority: string; ended: boolean }>();
  /** The version whose range holds the next leaf. */
  let v = 0;
  for (let start = 0; start < size; start += PAGE) {
    const page = await source.leaves(start, Math.min(PAGE, size - start));
    if (page.length === 0)
      return fail(start, v, `the log ends at leaf ${start}, its checkpoint says ${size}`, start);
    for (const bytes of page) {
      const index = tree.size;
      while ((checkpoints[v]?.treeSize ?? Number.POSITIVE_INFINITY) <= index) v++;
      const version = v + 1;
      let problem: string | undefined;
      try {
        const leaf = decodeLeaf(bytes);
        if (leaf.version !== version)
          problem = `is of version ${leaf.version} but lies in version ${version}`;
        else if (isChangeLeaf(leaf)) {
          const o = orders.get(leaf.order.id);
          if (o === undefined) problem = `points at order ${leaf.order.id}, which the log never created`;
          else if (o.reference !== leaf.order.reference || o.authority !== leaf.order.authority) {
            problem = `names order ${leaf.order.id} as ${leaf.order.reference}, the log created ${o.reference}`;
          } else if (leaf.type === 'add' && o.ended)
            problem = `adds for order ${leaf.order.id}, which had ended`;
        } else if (leaf.type === 'order-created') {
          if (orders.has(leaf.order.id)) problem = `creates order ${leaf.order.id} a second time`;
          orders.set(leaf.order.id, {
            reference: leaf.order.reference,
            authority: leaf.order.authority,
            ended: false,
          });
        } else {
          const o = orders.get(leaf.order.id);
          if (o === undefined)
            problem = `${leaf.type} for order ${leaf.order.id}, which the log never created`;
          else if (leaf.type === 'order-revoked' || leaf.type === 'order-expired') o.ended = true;
        }
      } catch (e) {
        problem = `does not decode: ${(e as Error).message}`;
      }
      if (problem !== undefined) return fail(index, v, `leaf ${index} ${problem}`, index);
      tree.push(hashLeaf(bytes));
      for (const c of [...checkpoints.slice(v, v + 1), ...extra]) {
        if (c.treeSize !== tree.size || equalBytes(c.root, tree.root())) continue;
        const from = checkpoints[c.version - 2]?.treeSize ?? 0;
        const bad = await firstBadLeaf(source, c, from, tree.size);
        return fail(
          tree.size,
          v,
          `the tree of version ${c.version} (size ${c.treeSize}) has root ${toHex(tree.root())}, its checkpoint says ${toHex(c.root)}`,
          bad,
        );
      }
    }
    if (page.length < Math.min(PAGE, size - start)) {
      return fail(tree.size, v, `the log ends at leaf ${tree.size}, its checkpoint says ${size}`, tree.size);
    }
  }
  return { ok: true, leaves: tree.size, versions: checkpoints.length };
}

/** The first leaf of `from`..`to - 1` whose inclusion proof fails against `c`, else `from`. */
async function firstBadLeaf(source: LogSource, c: Checkpoint, from: number, to: number): Promise<number> {
  if (source.inclusionProof === undefined) return from;
  const leaves = await source.leaves(from, to - from);
  for (let i = from; i < to; i++) {
    const proof = await source.inclusionProof(c.version, i);
    const leaf = leaves[i - from];
    if (
      proof === null ||
      leaf === undefined ||
      !verifyInclusion(i, c.treeSize, hashLeaf(leaf), proof, c.root)
    )
      return i;
  }
  return from;
}
