/**
 * Sampling plans for compliance probes: which entries a probe checks in its next round. New entries first (the
 * time to enforcement), then entries released in the last 24 h (the time to unblock), then a seeded random
 * sample of the other active entries, `budget / perEntry` entries in all. Confidential categories never appear:
 * the plain feeds ISPs enforce do not carry them, and a plan would print their names in clear.
 */

import { createHash, randomBytes } from 'node:crypto';
import { canaryName } from '../core/canary.ts';
import type { Category, EntryKind } from '../core/types.ts';
import { type Store, success } from './store.ts';
import type { RegistryResult } from './types.ts';

export type PlanReason = 'new' | 'revoked' | 'sample';

export interface PlanEntry {
  expression: string;
  kind: EntryKind;
  category: Category;
  reason: PlanReason;
  /** Commit time of the version that listed (new) or released (revoked) the entry; null for samples. */
  since: string | null;
}

export interface ProbePlan {
  id: number;
  version: number;
  seed: string;
  budget: number;
  createdAt: string;
  /** The name to ask (TXT) and the version a resolver enforcing this plan's version answers. */
  canary: { name: string; version: number };
  entries: PlanEntry[];
}

export interface PlanRequest {
  /** Queries per minute the probe may send. */
  budget: number;
  /** Queries one entry costs the probe (e.g. two per resolver: the name and a random sub-domain). */
  perEntry: number;
  /** Seed of the random sample; the hub draws one when absent. */
  seed?: string;
  confidential: readonly Category[];
}

/** How far back "new" and "revoked" reach. */
const RECENT_MS = 24 * 3600_000;
/** Random draws per wanted sample before giving up (a registry with few active entries among many ids). */
const DRAWS_PER_SAMPLE = 4;

const kindOf = (expression: string): EntryKind =>
  expression.indexOf('/') === expression.length - 1 ? 'domain' : 'url';

/** A small seeded PRNG (mulberry32): the same seed draws the same sample, so a plan can be re-derived. */
function seededRandom(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface VersionRow {
  created_at: string;
  first_seq: number;
  last_seq: number;
}

interface ChangeRow {
  expression: string;
  op: 'add' | 'remove';
  category: Category;
}

/** New and revoked entries of the last 24 h, newest change first, at most `size` of them. */
function recentEntries(store: Store, size: number, confidential: readonly Category[]): PlanEntry[] {
  const after = new Date(store.now().getTime() - RECENT_MS).toISOString();
  const versions = store
    .stmt(
      'SELECT created_at, first_seq, last_seq FROM versions WHERE created_at >= ? AND first_seq IS NOT NULL ORDER BY version DESC',
    )
    .all(after) as VersionRow[];
  const active = store.stmt('SELECT active FROM entries WHERE expression = ?').pluck();
  const changes = store.stmt(
    "SELECT expression, op, category FROM changes WHERE seq BETWEEN ? AND ? AND op IN ('add', 'remove') ORDER BY seq DESC",
  );
  const seen = new Set<string>();
  const added: PlanEntry[] = [];
  const released: PlanEntry[] = [];
  for (const version of versions) {
    for (const change of changes.iterate(version.first_seq, version.last_seq) as Iterable<ChangeRow>) {
      // Decision rows (an order created, approved, extended...) share the chain but name no entry.
      if (change.op !== 'add' && change.op !== 'remove') continue;
      if (seen.has(change.expression)) continue;
      seen.add(change.expression);
      if (confidential.includes(change.category)) continue;
      const isActive = active.get(change.expression) === 1;
      // Only the latest change of an expression counts, and only if the entry is still in that state.
      if (change.op === 'add' && !isActive) continue;
      if (change.op === 'remove' && isActive) continue;
      const entry: PlanEntry = {
        expression: change.expression,
        kind: kindOf(change.expression),
        category: change.category,
        reason: change.op === 'add' ? 'new' : 'revoked',
        since: version.created_at,
      };
      (change.op === 'add' ? added : released).push(entry);
      if (added.length >= size) return added;
    }
  }
  return [...added, ...released].slice(0, size);
}

interface SampleRow {
  expression: string;
  category: Category;
  active: number;
}

/** Up to `size` active entries drawn at random by id, skipping `taken` and confidential categories. */
function sampleEntries(
  store: Store,
  size: number,
  seed: string,
  taken: ReadonlySet<string>,
  confidential: readonly Category[],
): PlanEntry[] {
  const maxId = (store.stmt('SELECT max(id) FROM entries').pluck().get() as number | null) ?? 0;
  if (maxId === 0 || size <= 0) return [];
  const byId = store.stmt('SELECT expression, category, active FROM entries WHERE id = ?');
  const random = seededRandom(seed);
  const chosen = new Map<string, PlanEntry>();
  for (let draw = 0; draw < size * DRAWS_PER_SAMPLE && chosen.size < size; draw++) {
    const row = byId.get(1 + Math.floor(random() * maxId)) as SampleRow | undefined;
    if (row?.active !== 1 || taken.has(row.expression) || chosen.has(row.expression)) continue;
    if (confidential.includes(row.category)) continue;
    chosen.set(row.expression, {
      expression: row.expression,
      kind: kindOf(row.expression),
      category: row.category,
      reason: 'sample',
      since: null,
    });
  }
  return [...chosen.values()];
}

/** Builds a plan for prober token `tokenId` and records it, so results can be checked against it. */
export function createPlan(store: Store, tokenId: number, request: PlanRequest): RegistryResult<ProbePlan> {
  const size = Math.max(1, Math.floor(request.budget / request.perEntry));
  const seed = request.seed ?? randomBytes(8).toString('hex');
  return store.write(() => {
    const recent = recentEntries(store, size, request.confidential);
    const taken = new Set(recent.map((entry) => entry.expression));
    const entries = [
      ...recent,
      ...sampleEntries(store, size - recent.length, seed, taken, request.confidential),
    ];
    const version = store.currentVersion();
    const createdAt = store.nowIso();
    const id = Number(
      store
        .stmt('INSERT INTO probe_plans (token_id, version, seed, budget, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(tokenId, version, seed, request.budget, createdAt).lastInsertRowid,
    );
    const insert = store.stmt(
      'INSERT INTO probe_plan_entries (plan_id, expression, reason, since) VALUES (?, ?, ?, ?)',
    );
    for (const entry of entries) insert.run(id, entry.expression, entry.reason, entry.since);
    return success({
      id,
      version,
      seed,
      budget: request.budget,
      createdAt,
      canary: { name: canaryName(version), version },
      entries,
    });
  });
}
