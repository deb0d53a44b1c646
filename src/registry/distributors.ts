/** Compliance: which version of which feed each distributor (ISP sync agent) reports it has applied. */

import { fromBase64, toBase64 } from '../core/bytes.ts';
import { AGENT_ID } from '../core/hub-client.ts';
import { HASH_BYTES } from '../core/merkle.ts';
import { logHead } from './log-queries.ts';
import { toIsoTime } from './order-input.ts';
import { versionInfo } from './queries.ts';
import { failure, type Store, success } from './store.ts';
import type { DistributorReport, DistributorStatus, RegistryResult, SplitView } from './types.ts';

const MAX_OUTPUTS_JSON = 16_384;
/** Days of per-report lag kept for the lag-over-time chart. */
export const LAG_HISTORY_DAYS = 30;

/** How far behind the registry an agent at `version` is, at `nowMs`. */
export interface Lag {
  lagVersions: number;
  /** Seconds since the first version it has not applied was committed (0 when current). */
  lagSeconds: number;
}

function lagOf(store: Store, version: number, nowMs: number): Lag {
  const current = store.currentVersion();
  const missed = version < current ? versionInfo(store, version + 1) : null;
  return {
    lagVersions: Math.max(0, current - version),
    lagSeconds: missed ? Math.max(0, Math.round((nowMs - Date.parse(missed.createdAt)) / 1000)) : 0,
  };
}

export type DistributorCompliance = DistributorStatus & Lag & { lastContactSeconds: number };

/** Every agent's latest report with its lag now: the compliance view of the API and the console. */
export function distributorCompliance(store: Store): DistributorCompliance[] {
  const now = store.now().getTime();
  return listDistributors(store).map((d) => ({
    ...d,
    ...lagOf(store, d.version, now),
    lastContactSeconds: Math.round((now - Date.parse(d.reportedAt)) / 1000),
  }));
}

export interface LagPoint extends Lag {
  tokenId: number;
  agentId: string;
  feed: string;
  reportedAt: string;
  version: number;
}

/** The lag of every report since `since` (ISO time), oldest first. */
export function lagHistory(store: Store, since: string): LagPoint[] {
  return (
    store
      .stmt(
        `SELECT token_id, agent_id, feed, reported_at, version, lag_versions, lag_seconds FROM distributor_lag
         WHERE reported_at >= ? ORDER BY reported_at, rowid`,
      )
      .all(since) as Array<{
      token_id: number;
      agent_id: string;
      feed: string;
      reported_at: string;
      version: number;
      lag_versions: number;
      lag_seconds: number;
    }>
  ).map((r) => ({
    tokenId: r.token_id,
    agentId: r.agent_id,
    feed: r.feed,
    reportedAt: r.reported_at,
    version: r.version,
    lagVersions: r.lag_versions,
    lagSeconds: r.lag_seconds,
  }));
}

/**
 * Records the latest report of one agent of a distributor token for a feed (one row per token, agent and
 * feed, replaced each time). An agent that sends no id is its token's row (id '').
 */
export function recordReport(
  store: Store,
  tokenId: number,
  report: DistributorReport,
): RegistryResult<DistributorStatus> {
  if (typeof report.feed !== 'string' || report.feed === '' || report.feed.length > 100) {
    return failure('invalid_input', 'feed must be a name of 1 to 100 characters');
  }
  if (!Number.isSafeInteger(report.version) || report.version < 0) {
    return failure('invalid_input', `version ${String(report.version)} is not a non-negative integer`);
  }
  const current = store.currentVersion();
  if (report.version > current) {
    return failure('invalid_input', `version ${report.version} is newer than the registry's ${current}`);
  }
  const appliedAt = toIsoTime(report.appliedAt);
  if (appliedAt === null)
    return failure('invalid_input', `appliedAt '${String(report.appliedAt)}' is not a valid time`);
  const agentId = report.agentId ?? '';
  if (agentId !== '' && !AGENT_ID.test(agentId)) {
    return failure(
      'invalid_input',
      `agentId '${agentId.slice(0, 80)}' is not 1 to 64 letters, digits, '.', '_', ':' or '-'`,
    );
  }
  const outputs = JSON.stringify(report.outputs ?? []);
  if (outputs.length > MAX_OUTPUTS_JSON) {
    return failure('invalid_input', `outputs are larger than ${MAX_OUTPUTS_JSON} bytes of JSON`);
  }
  const checkpoint = report.checkpoint;
  let root: Uint8Array | null = null;
  if (checkpoint !== undefined) {
    if (checkpoint.version !== report.version) {
      return failure(
        'invalid_input',
        `checkpoint of version ${checkpoint.version} reported with version ${report.version}`,
      );
    }
    if (!Number.isSafeInteger(checkpoint.treeSize) || checkpoint.treeSize < 1) {
      return failure(
        'invalid_input',
        `checkpoint treeSize ${String(checkpoint.treeSize)} is not a positive integer`,
      );
    }
    root = typeof checkpoint.rootHash === 'string' ? (fromBase64(checkpoint.rootHash) ?? null) : null;
    if (root?.length !== HASH_BYTES)
      return failure('invalid_input', 'checkpoint rootHash is not base64 of 32 bytes');
  }
  const written = store.write(() => {
    if (store.stmt('SELECT 1 FROM tokens WHERE id = ?').get(tokenId) === undefined) {
      return failure('not_found', `token ${tokenId} does not exist`);
    }
    store
      .stmt(
        `INSERT INTO distributors (token_id, agent_id, feed, version, applied_at, reported_at, outputs,
         checkpoint_version, checkpoint_tree_size, checkpoint_root)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (token_id, agent_id, feed) DO UPDATE SET version = excluded.version,
         applied_at = excluded.applied_at, reported_at = excluded.reported_at, outputs = excluded.outputs,
         checkpoint_version = excluded.checkpoint_version, checkpoint_tree_size = excluded.checkpoint_tree_size,
         checkpoint_root = excluded.checkpoint_root`,
      )
      .run(
        tokenId,
        agentId,
        report.feed,
        report.version,
        appliedAt,
        store.nowIso(),
        outputs,
        checkpoint?.version ?? null,
        checkpoint?.treeSize ?? null,
        root,
      );
    const now = store.now();
    const lag = lagOf(store, report.version, now.getTime());
    store
      .stmt(
        `INSERT INTO distributor_lag (token_id, agent_id, feed, reported_at, version, lag_versions, lag_seconds)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(tokenId, agentId, report.feed, now.toISOString(), report.version, lag.lagVersions, lag.lagSeconds);
    const horizon = new Date(now.getTime() - LAG_HISTORY_DAYS * 86_400_000).toISOString();
    store.stmt('DELETE FROM distributor_lag WHERE reported_at < ?').run(horizon);
    return success(null);
  });
  if (!written.ok) return written;
  return success(listDistributors(store, { tokenId, agentId, feed: report.feed })[0] as DistributorStatus);
}

interface DistributorRow {
  token_id: number;
  agent_id: string;
  name: string;
  revoked_at: string | null;
  feed: string;
  version: number;
  applied_at: string;
  reported_at: string;
  outputs: string;
  checkpoint_version: number | null;
  checkpoint_tree_size: number | null;
  checkpoint_root: Buffer | null;
}

/**
 * The latest report of every agent and feed, by token, agent, then feed (optionally one token, agent or
 * feed).
 */
export function listDistributors(
  store: Store,
  filter: { tokenId?: number; agentId?: string; feed?: string } = {},
): DistributorStatus[] {
  const rows = store
    .stmt(
      `SELECT d.token_id, d.agent_id, t.name, t.revoked_at, d.feed, d.version, d.applied_at, d.reported_at,
         d.outputs, d.checkpoint_version, d.checkpoint_tree_size, d.checkpoint_root
       FROM distributors d JOIN tokens t ON t.id = d.token_id
       WHERE (@tokenId IS NULL OR d.token_id = @tokenId) AND (@agentId IS NULL OR d.agent_id = @agentId)
         AND (@feed IS NULL OR d.feed = @feed)
       ORDER BY d.token_id, d.agent_id, d.feed`,
    )
    .all({
      tokenId: filter.tokenId ?? null,
      agentId: filter.agentId ?? null,
      feed: filter.feed ?? null,
    }) as DistributorRow[];
  return rows.map((r) => ({
    tokenId: r.token_id,
    agentId: r.agent_id,
    name: r.name,
    tokenRevoked: r.revoked_at !== null,
    feed: r.feed,
    version: r.version,
    appliedAt: r.applied_at,
    reportedAt: r.reported_at,
    outputs: JSON.parse(r.outputs),
    checkpoint: reportedCheckpoint(store, r),
  }));
}

function reportedCheckpoint(store: Store, r: DistributorRow): DistributorStatus['checkpoint'] {
  if (r.checkpoint_version === null || r.checkpoint_tree_size === null || r.checkpoint_root === null)
    return null;
  const hub = logHead(store, r.checkpoint_version);
  const rootHash = toBase64(r.checkpoint_root);
  const matchesHub =
    hub === null ? null : hub.treeSize === r.checkpoint_tree_size && toBase64(hub.root) === rootHash;
  return { version: r.checkpoint_version, treeSize: r.checkpoint_tree_size, rootHash, matchesHub };
}

/**
 * The versions for which distributors were shown different trees: two reported roots for one version (a
 * split view), or a reported root the hub's own log does not have for that version.
 */
export function splitViews(store: Store, distributors: readonly DistributorStatus[]): SplitView[] {
  const byVersion = new Map<number, Map<string, SplitView['roots'][number]>>();
  for (const d of distributors) {
    const c = d.checkpoint;
    if (c === null) continue;
    const roots = byVersion.get(c.version) ?? new Map();
    byVersion.set(c.version, roots);
    const key = `${c.treeSize} ${c.rootHash}`;
    const root = roots.get(key) ?? {
      treeSize: c.treeSize,
      rootHash: c.rootHash,
      matchesHub: c.matchesHub,
      agents: [],
    };
    roots.set(key, root);
    root.agents.push({ tokenId: d.tokenId, agentId: d.agentId, name: d.name, feed: d.feed });
  }
  const views: SplitView[] = [];
  for (const [version, roots] of [...byVersion].sort((a, b) => a[0] - b[0])) {
    const all = [...roots.values()];
    if (all.length < 2 && all.every((r) => r.matchesHub !== false)) continue;
    const hub = logHead(store, version);
    views.push({ version, hubRootHash: hub === null ? null : toBase64(hub.root), roots: all });
  }
  return views;
}
