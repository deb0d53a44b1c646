/**
 * Four-eyes for high-impact orders: which orders wait for a second regulator, and lapsing the ones nobody
 * decided on. Defaults and their reasons are in docs/DECISIONS.md.
 */

import { registrableDomain } from '../core/host.ts';
import type { AcceptedTarget } from './order-writer.ts';
import type { ProtectedDomains } from './protected-domains.ts';
import { kindOf } from './rows.ts';
import type { Store } from './store.ts';
import type { ApprovalReason } from './types.ts';

export interface FourEyesPolicy {
  /** An order with more targets than this waits for approval (0: never for size). */
  maxTargets: number;
  /** A domain target whose registrable domain already has more active domain entries than this (0: off). */
  maxSubdomainEntries: number;
  /** Popular names (a top-sites list): a target on or below one waits for approval. */
  popular: ProtectedDomains;
  /** A pending order nobody decided on expires after this long. */
  pendingTtlMs: number;
}

export const DEFAULT_FOUR_EYES = { maxTargets: 1000, maxSubdomainEntries: 100, pendingTtlHours: 72 } as const;

const hostOf = (expression: string) => expression.slice(0, expression.indexOf('/'));

/** Active domain entries on or below each registrable domain, as `countEntriesUnder` returns them. */
export type EntriesUnder = ReadonlyMap<string, number>;

/**
 * How many active domain entries sit on or below each registrable domain of `domains` (0 included). The
 * sub-domains of a name are not contiguous in expression order, so this is one pass over the active
 * entries; SQLite keeps only those whose last characters are those of some domain of the set (a cheap
 * suffix test in C), so JavaScript sees the candidates rather than every entry.
 */
export function countEntriesUnder(store: Store, domains: ReadonlySet<string>): Map<string, number> {
  const counts = new Map([...domains].map((d) => [d, 0]));
  if (domains.size === 0) return counts;
  const suffix = Math.min(...[...domains].map((d) => d.length)) + 1;
  const tails = [...new Set([...domains].map((d) => `${d}/`.slice(-suffix)))];
  const scan = store.db.prepare(
    `SELECT expression FROM entries
     WHERE active = 1 AND substr(expression, -?) IN (SELECT value FROM json_each(?))
       AND instr(expression, '/') = length(expression)`,
  );
  for (const expression of scan.pluck().iterate(suffix, JSON.stringify(tails)) as Iterable<string>) {
    let name = hostOf(expression);
    for (;;) {
      const n = counts.get(name);
      if (n !== undefined) counts.set(name, n + 1);
      const dot = name.indexOf('.');
      if (dot < 0) break;
      name = name.slice(dot + 1);
    }
  }
  return counts;
}

/**
 * The registrable domains whose crowding decides whether an order of `targetCount` targets with these
 * accepted ones waits for approval; empty when the policy does not look (off, or the order waits for its
 * size anyway). The hub counts their entries in a worker thread before it writes the order.
 */
export function crowdingDomains(
  policy: FourEyesPolicy | null,
  accepted: readonly AcceptedTarget[],
  targetCount: number,
): Set<string> {
  const domains = new Set<string>();
  if (policy === null || policy.maxSubdomainEntries <= 0) return domains;
  if (policy.maxTargets > 0 && targetCount > policy.maxTargets) return domains;
  for (const t of accepted) {
    if (kindOf(t.expression) !== 'domain') continue;
    const d = registrableDomain(hostOf(t.expression));
    if (d !== null) domains.add(d);
  }
  return domains;
}

/**
 * Why an order of `targetCount` targets with these accepted ones needs a second regulator (empty: it does
 * not). `counted`: entries under registrable domains counted beforehand (see crowdingDomains); a domain it
 * lacks is counted here.
 */
export function approvalReasons(
  store: Store,
  policy: FourEyesPolicy | null,
  accepted: readonly AcceptedTarget[],
  targetCount: number,
  counted?: EntriesUnder,
): ApprovalReason[] {
  const reasons: ApprovalReason[] = [];
  if (policy === null) return reasons;
  if (policy.maxTargets > 0 && targetCount > policy.maxTargets) {
    reasons.push({
      code: 'too_many_targets',
      message: `${targetCount} targets, more than ${policy.maxTargets}`,
    });
  }
  const overridden = accepted.filter((t) => t.rails.length > 0);
  if (overridden.length > 0) {
    const rails = [...new Set(overridden.flatMap((t) => t.rails))].join(', ');
    reasons.push({
      code: 'override',
      message: `${overridden.length} target(s) accepted by overriding ${rails}`,
    });
  }
  const guarded = (list: ProtectedDomains) =>
    accepted.filter((t) => list.covering(hostOf(t.expression)) !== null).map((t) => t.expression);
  const protectedHits = guarded(store.protectedDomains);
  if (protectedHits.length > 0) {
    reasons.push({
      code: 'protected_target',
      message: `protected: ${protectedHits.slice(0, 10).join(', ')}`,
    });
  }
  const popularHits = guarded(policy.popular);
  if (popularHits.length > 0) {
    reasons.push({ code: 'popular_target', message: `popular: ${popularHits.slice(0, 10).join(', ')}` });
  }
  const domains = crowdingDomains(policy, accepted, targetCount);
  if (domains.size > 0) {
    const missing = new Set([...domains].filter((d) => counted?.get(d) === undefined));
    const counts = new Map([...(counted ?? []), ...countEntriesUnder(store, missing)]);
    const crowded = [...domains]
      .map((d): [string, number] => [d, counts.get(d) ?? 0])
      .filter(([, n]) => n > policy.maxSubdomainEntries);
    if (crowded.length > 0) {
      reasons.push({
        code: 'crowded_domain',
        message: crowded
          .slice(0, 10)
          .map(([d, n]) => `${d} already has ${n} entries, more than ${policy.maxSubdomainEntries}`)
          .join('; '),
      });
    }
  }
  return reasons;
}

/**
 * Marks pending orders whose approval window closed at `now` as expired (no version: they never changed the
 * registry). Inside a write transaction.
 */
export function lapsePending(store: Store, now: Date): number {
  const at = now.toISOString();
  return store
    .stmt(
      `UPDATE orders SET status = 'expired',
         approval = json_set(approval, '$.decision', 'expired', '$.at', ?)
       WHERE status = 'pending' AND json_extract(approval, '$.expiresAt') <= ?`,
    )
    .run(at, at).changes;
}

/** When the earliest pending order's approval window closes, or null. */
export function nextPendingLapse(store: Store): string | null {
  return store
    .stmt(`SELECT min(json_extract(approval, '$.expiresAt')) FROM orders WHERE status = 'pending'`)
    .pluck()
    .get() as string | null;
}
