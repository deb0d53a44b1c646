/**
 * Per-ISP compliance from verified probe results (docs/OPERATIONS.md, "Compliance probes"): the share of
 * sampled active entries enforced, the time from an order's commit to the first observed block and from a
 * revocation to the first observed answer, and how many versions behind each ISP's canary answers are.
 */

import type { Store } from './store.ts';

export type ComplianceStatus = 'compliant' | 'lagging' | 'non-compliant' | 'unknown';

/** Seconds, nearest-rank percentiles over the entries observed; `pending`: observed, not yet reached. */
export interface Durations {
  p50: number | null;
  p95: number | null;
  samples: number;
  pending: number;
}

export interface IspCompliance {
  isp: string;
  status: ComplianceStatus;
  /** `canary_missing`, `canary_behind`, `unenforced_entries`, `blocked_after_revocation`. */
  flags: string[];
  /** Blocked / (blocked + not blocked) over the latest observations of currently active entries. */
  enforcedShare: number | null;
  entries: { blocked: number; notBlocked: number; inconclusive: number };
  timeToBlock: Durations;
  timeToUnblock: Durations;
  /** The worst resolver of the ISP: lowest canary version seen, or null when one answered no canary. */
  canary: { expectedVersion: number; enforcedVersion: number | null; lagVersions: number | null } | null;
  lastObservedAt: string;
}

function durations(seconds: number[], pending: number): Durations {
  const sorted = [...seconds].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? null;
  return { p50: rank(0.5), p95: rank(0.95), samples: sorted.length, pending };
}

const seconds = (from: string, to: string) => Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);

interface FirstRow {
  isp: string;
  expression: string;
  since: string;
  first: string | null;
  /** Whether the entry is still in the state it was planned for (listed for `new`, released for `revoked`). */
  still: number;
}

/** For each ISP and entry planned for `reason`, the first observation with `verdict` after `since`. */
function firsts(store: Store, reason: 'new' | 'revoked', verdict: string, after: string): FirstRow[] {
  return store
    .stmt(
      `SELECT r.isp, pe.expression, pe.since,
              min(CASE WHEN r.verdict = ? AND r.observed_at >= pe.since THEN r.observed_at END) AS first,
              coalesce(e.active, 0) = ? AS still
       FROM probe_plan_entries pe
       JOIN probe_results r ON r.plan_id = pe.plan_id AND r.expression = pe.expression
       LEFT JOIN entries e ON e.expression = pe.expression
       WHERE pe.reason = ? AND pe.since >= ? AND r.verdict <> 'inconclusive'
       GROUP BY r.isp, pe.expression, pe.since`,
    )
    .all(verdict, reason === 'new' ? 1 : 0, reason, after) as FirstRow[];
}

function byIsp(rows: FirstRow[]): Map<string, Durations> {
  const grouped = new Map<string, { done: number[]; pending: number }>();
  for (const row of rows) {
    const group = grouped.get(row.isp) ?? { done: [], pending: 0 };
    // An entry revoked before its block was seen (or listed again before its release was) waits for nothing.
    if (row.first !== null) group.done.push(seconds(row.since, row.first));
    else if (row.still === 1) group.pending++;
    grouped.set(row.isp, group);
  }
  return new Map([...grouped].map(([isp, g]) => [isp, durations(g.done, g.pending)]));
}

/** Compliance of every ISP with results observed in the last `hours` hours, by ISP name. */
export function complianceReport(store: Store, hours = 24): IspCompliance[] {
  const after = new Date(store.now().getTime() - hours * 3600_000).toISOString();
  // The latest observation of each (ISP, resolver or proxy, entry, question) about an entry still active; the
  // random sub-domain asked changes every round, so all of an entry's sub-domain questions are one question.
  const latest = store
    .stmt(
      `SELECT r.isp, r.expression, r.verdict FROM probe_results r
       JOIN (SELECT max(id) AS id FROM probe_results
             WHERE check_kind IN ('dns', 'http') AND observed_at >= ?
             GROUP BY isp, target, expression, check_kind = 'dns' AND query <> rtrim(expression, '/') || ' A') l
         ON l.id = r.id
       JOIN entries e ON e.expression = r.expression AND e.active = 1`,
    )
    .all(after) as Array<{ isp: string; expression: string; verdict: string }>;
  const perEntry = new Map<string, Map<string, Set<string>>>();
  for (const row of latest) {
    const entries = perEntry.get(row.isp) ?? new Map<string, Set<string>>();
    const verdicts = entries.get(row.expression) ?? new Set<string>();
    verdicts.add(row.verdict);
    entries.set(row.expression, verdicts);
    perEntry.set(row.isp, entries);
  }
  const canaries = store
    .stmt(
      `SELECT r.isp, r.canary_version, p.version AS expected FROM probe_results r
       JOIN probe_plans p ON p.id = r.plan_id
       WHERE r.id IN (SELECT max(id) FROM probe_results
                      WHERE check_kind = 'canary' AND verdict <> 'inconclusive' AND observed_at >= ?
                      GROUP BY isp, target)`,
    )
    .all(after) as Array<{ isp: string; canary_version: number | null; expected: number }>;
  const toBlock = byIsp(firsts(store, 'new', 'blocked', after));
  const toUnblock = byIsp(firsts(store, 'revoked', 'not-blocked', after));
  const isps = store
    .stmt(
      'SELECT isp, max(observed_at) AS last FROM probe_results WHERE observed_at >= ? GROUP BY isp ORDER BY isp',
    )
    .all(after) as Array<{ isp: string; last: string }>;

  return isps.map(({ isp, last }) => {
    const entries = { blocked: 0, notBlocked: 0, inconclusive: 0 };
    for (const verdicts of perEntry.get(isp)?.values() ?? []) {
      if (verdicts.has('not-blocked')) entries.notBlocked++;
      else if (verdicts.has('blocked')) entries.blocked++;
      else entries.inconclusive++;
    }
    const conclusive = entries.blocked + entries.notBlocked;
    const enforcedShare = conclusive === 0 ? null : entries.blocked / conclusive;
    const mine = canaries.filter((c) => c.isp === isp);
    const expectedVersion = Math.max(0, ...mine.map((c) => c.expected));
    const missing = mine.some((c) => c.canary_version === null);
    const enforcedVersion = missing ? null : Math.min(...mine.map((c) => c.canary_version as number));
    const canary =
      mine.length === 0
        ? null
        : {
            expectedVersion,
            enforcedVersion,
            lagVersions: enforcedVersion === null ? null : Math.max(0, expectedVersion - enforcedVersion),
          };
    const timeToBlock = toBlock.get(isp) ?? durations([], 0);
    const timeToUnblock = toUnblock.get(isp) ?? durations([], 0);
    const flags: string[] = [];
    if (missing) flags.push('canary_missing');
    if ((canary?.lagVersions ?? 0) > 0) flags.push('canary_behind');
    if (entries.notBlocked > 0) flags.push('unenforced_entries');
    if (timeToUnblock.pending > 0) flags.push('blocked_after_revocation');
    // A resolver answering an older canary holds the policy but has stopped following it: lagging, whatever
    // the share; without a canary, most sampled entries unblocked is non-compliance.
    const status: ComplianceStatus =
      conclusive === 0 && canary === null
        ? 'unknown'
        : flags.includes('canary_behind')
          ? 'lagging'
          : (enforcedShare !== null && enforcedShare < 0.5) || (missing && enforcedShare === null)
            ? 'non-compliant'
            : flags.some((flag) => flag !== 'canary_missing')
              ? 'lagging'
              : 'compliant';
    return {
      isp,
      status,
      flags,
      enforcedShare,
      entries,
      timeToBlock,
      timeToUnblock,
      canary,
      lastObservedAt: last,
    };
  });
}
