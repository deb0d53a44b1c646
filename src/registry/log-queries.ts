/**
 * Reading the transparency log: tree heads per version, leaves by index (change leaves encoded from their
 * rows, order events as stored), proofs from the stored tiles, and the back-fill of versions written before
 * the log existed.
 */
import { ChangeLeafEncoder, type LeafOrder } from '../core/log-leaf.ts';
import { consistencyProof, inclusionProof, type NodeReader } from '../core/merkle.ts';
import { tileNodeReader } from '../core/tlog-tiles.ts';
import type { Action, Category, ChangeOp } from '../core/types.ts';
import { leafTarget, VersionLeaves } from './log-leaves.ts';
import { storedTiles } from './log-tiles.ts';
import { kindOf } from './rows.ts';
import { failure, type Store, success } from './store.ts';
import type { RegistryResult } from './types.ts';

/** The tree after a version. */
export interface LogHead {
  version: number;
  treeSize: number;
  root: Uint8Array;
}

export interface InclusionProof {
  version: number;
  treeSize: number;
  leafIndex: number;
  proof: Uint8Array[];
}

export interface ConsistencyProof {
  from: LogHead;
  to: LogHead;
  proof: Uint8Array[];
}

/** The head of `version`, or of the latest version when undefined; null when there is none. */
export function logHead(store: Store, version?: number): LogHead | null {
  const row = (
    version === undefined
      ? store.stmt('SELECT version, tree_size, root FROM log_heads ORDER BY version DESC LIMIT 1').raw().get()
      : store.stmt('SELECT version, tree_size, root FROM log_heads WHERE version = ?').raw().get(version)
  ) as [number, number, Buffer] | undefined;
  return row === undefined ? null : { version: row[0], treeSize: row[1], root: new Uint8Array(row[2]) };
}

/** Node hashes from the stored tiles, each tile read once per reader. */
function nodes(store: Store): NodeReader {
  const load = storedTiles(store.db);
  const seen = new Map<string, Uint8Array | null>();
  return tileNodeReader((level, idx) => {
    const key = `${level}/${idx}`;
    if (!seen.has(key)) seen.set(key, load(level, idx));
    return seen.get(key) ?? null;
  });
}

/** One stored tile (all the hashes it holds now), or null. */
export function logTile(store: Store, level: number, idx: number): Uint8Array | null {
  return storedTiles(store.db)(level, idx);
}

const isIndex = (n: number) => Number.isSafeInteger(n) && n >= 0;

export function logInclusionProof(
  store: Store,
  version: number,
  leafIndex: number,
): RegistryResult<InclusionProof> {
  if (!isIndex(version) || !isIndex(leafIndex)) {
    return failure('invalid_input', 'version and leaf must be non-negative integers');
  }
  const head = logHead(store, version);
  if (head === null) return failure('not_found', `version ${version} is not in the log`);
  if (leafIndex >= head.treeSize) {
    return failure(
      'invalid_input',
      `leaf ${leafIndex} is not in the tree of version ${version} (size ${head.treeSize})`,
    );
  }
  const proof = inclusionProof(nodes(store), leafIndex, head.treeSize);
  return success({ version, treeSize: head.treeSize, leafIndex, proof });
}

export function logConsistencyProof(
  store: Store,
  from: number,
  to: number,
): RegistryResult<ConsistencyProof> {
  if (!isIndex(from) || !isIndex(to) || from > to) {
    return failure('invalid_input', `from (${from}) and to (${to}) must be versions with from <= to`);
  }
  const a = logHead(store, from);
  const b = logHead(store, to);
  if (a === null || b === null)
    return failure('not_found', `version ${a === null ? from : to} is not in the log`);
  return success({ from: a, to: b, proof: consistencyProof(nodes(store), a.treeSize, b.treeSize) });
}

type ChangeRow = [
  seq: number,
  version: number,
  op: ChangeOp,
  expression: string,
  category: Category,
  action: Action,
  orderId: number,
  note: string,
  reference: string | null,
  authority: string | null,
  reason: string | null,
];

/**
 * The leaf bytes of `start` .. `start + count - 1` (fewer at the end of the log), read in one pass: the
 * versions covering the range, their events, their change rows in seq order.
 */
export function logLeaves(store: Store, start: number, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (!isIndex(start) || count <= 0) return out;
  const end = start + count;
  const before = store
    .stmt('SELECT tree_size FROM log_heads WHERE tree_size <= ? ORDER BY version DESC LIMIT 1')
    .pluck()
    .get(start) as number | undefined;
  const heads = store
    .stmt(
      // A version's decision rows (revoke, approve, ...) come before its adds and removes and have no leaf:
      // its change leaves start at its first add or remove.
      `SELECT h.version, h.tree_size,
         (SELECT c.seq FROM changes c WHERE c.seq BETWEEN v.first_seq AND v.last_seq AND c.op IN ('add', 'remove')
          ORDER BY c.seq LIMIT 1)
       FROM log_heads h JOIN versions v ON v.version = h.version
       WHERE h.tree_size > ? ORDER BY h.version`,
    )
    .raw()
    .iterate(start) as IterableIterator<[number, number, number | null]>;
  const versions: Array<[number, number, number, number | null]> = [];
  let lo = before ?? 0;
  for (const [version, size, firstSeq] of heads) {
    if (size > lo) versions.push([version, lo, size, firstSeq]);
    lo = size;
    if (lo >= end) break;
  }
  const events = store
    .stmt('SELECT leaf_index, leaf FROM log_events WHERE leaf_index >= ? AND leaf_index < ?')
    .raw();
  const changes = store
    .stmt(
      `SELECT c.seq, c.version, c.op, c.expression, c.category, c.action, c.order_id, c.note, o.reference,
         o.authority, o.reason
       FROM changes c LEFT JOIN orders o ON o.id = c.order_id
       WHERE c.seq >= ? AND c.seq < ? AND c.op IN ('add', 'remove') ORDER BY c.seq`,
    )
    .raw();
  const encoder = new ChangeLeafEncoder();
  for (const [, vLo, vHi, firstSeq] of versions) {
    const from = Math.max(start, vLo);
    const to = Math.min(end, vHi);
    const stored = new Map<number, Uint8Array>();
    let eventsBefore = 0;
    for (const [i, leaf] of events.all(vLo, to) as Array<[number, Buffer]>) {
      if (i < from) eventsBefore++;
      else stored.set(i, new Uint8Array(leaf));
    }
    // Change leaves sit at the indices the events leave free, in seq order from the version's first row.
    const seqFrom = (firstSeq ?? 0) + (from - vLo) - eventsBefore;
    const rows = new Map<number, ChangeRow>();
    if (firstSeq !== null) {
      for (const row of changes.all(seqFrom, seqFrom + (to - from - stored.size)) as ChangeRow[])
        rows.set(row[0], row);
    }
    let seq = seqFrom;
    for (let i = from; i < to; i++) {
      const event = stored.get(i);
      if (event !== undefined) {
        out.push(event);
        continue;
      }
      const row = rows.get(seq++);
      // A change row missing where the log expects one: the log ends where the rows stop telling it.
      if (row === undefined) return out;
      out.push(changeLeaf(store, encoder, row));
    }
  }
  return out;
}

function changeLeaf(store: Store, encoder: ChangeLeafEncoder, row: ChangeRow): Uint8Array {
  const [seq, version, op, expression, category, action, orderId, note, reference, authority, reason] = row;
  const order: LeafOrder = {
    id: orderId,
    reference: reference ?? '',
    authority: authority ?? '',
    reason: reason ?? '',
  };
  const text = encoder.encodeText({
    type: op,
    version,
    seq,
    target: leafTarget(store.log, expression, category),
    kind: kindOf(expression),
    category,
    action,
    order,
    note,
  });
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

const BACKFILL_SLICE = 10_000;

type OrderRow = [
  id: number,
  endedVersion: number | null,
  status: string,
  revokeReason: string | null,
  override: string | null,
];

/**
 * Writes the leaves of versions committed before the log existed (a registry created by an older release),
 * one transaction per version: orders created (and their overrides), orders ended, then the change rows.
 * Extensions were not recorded anywhere but in a summary and get no leaf. Leaves show the orders as they
 * are now. Returns the number of versions back-filled.
 */
export function backfillLog(store: Store, settings = store.log): number {
  const db = store.db;
  const logged = (db.prepare('SELECT max(version) FROM log_heads').pluck().get() as number | null) ?? 0;
  const pending = db
    .prepare('SELECT version, first_seq, last_seq FROM versions WHERE version > ? ORDER BY version')
    .raw()
    .all(logged) as Array<[number, number | null, number | null]>;
  const created = db.prepare(
    'SELECT id, ended_version, status, revoke_reason, override FROM orders WHERE version = ? ORDER BY id',
  );
  const ended = db.prepare(
    'SELECT id, ended_version, status, revoke_reason, override FROM orders WHERE ended_version = ? ORDER BY id',
  );
  const rows = db.prepare(
    'SELECT seq, op, expression, category, action, order_id, note FROM changes WHERE seq BETWEEN ? AND ? ORDER BY seq',
  );
  for (const [version, firstSeq, lastSeq] of pending) {
    db.transaction(() => {
      const leaves = new VersionLeaves(db, version, settings);
      for (const [id, , , , override] of created.raw().all(version) as OrderRow[]) {
        leaves.orderEvent('order-created', id);
        if (override !== null) {
          const o = JSON.parse(override) as { rails: unknown; reason: unknown };
          leaves.orderEvent('order-override', id, JSON.stringify({ rails: o.rails, reason: o.reason }));
        }
      }
      for (const [id, , status, revokeReason] of ended.raw().all(version) as OrderRow[]) {
        leaves.orderEvent(status === 'revoked' ? 'order-revoked' : 'order-expired', id, revokeReason ?? '');
      }
      // In slices read whole: full tiles are written as leaves go in, and a connection cannot write while
      // a statement of it iterates.
      for (let from = firstSeq ?? 1; lastSeq !== null && from <= lastSeq; from += BACKFILL_SLICE) {
        const slice = rows.raw().all(from, Math.min(lastSeq, from + BACKFILL_SLICE - 1)) as Array<
          [number, ChangeOp, string, Category, Action, number, string]
        >;
        for (const r of slice) if (r[1] === 'add' || r[1] === 'remove') leaves.change(...r);
      }
      leaves.finish();
    }).immediate();
  }
  return pending.length;
}
