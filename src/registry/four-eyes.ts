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

/**
 * How many active domain entries sit on or below each registrable domain of `domains`. One pass over the
 * active domain entries (the sub-domains of a name are not contiguous in expression order); orders too large
 * for it are pending for their size anyway.
 */
function entriesUnder(store: Store, domains: ReadonlySet<string>): Map<string, number> {
  const counts = new Map<string, number>();
  const scan = store.db.prepare(
    `SELECT expression FROM entries WHERE active = 1 AND instr(expression, '/') = length(expression)`,
  );
  for (const expression of scan.pluck().iterate() as Iterable<string>) {
    let name = hostOf(expression);
    for (;;) {
      if (domains.has(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
      const dot = name.indexOf('.');
      if (dot < 0) break;
      name = name.slice(dot + 1);
    }
  }
  return counts;
}

/** Why an order of `targetCount` targets with these accepted ones needs a second regulator (empty: it does not). */
export function approvalReasons(
  store: Store,
  policy: FourEyesPolicy | null,
  accepted: readonly AcceptedTarget[],
  targetCount: number,
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
  if (policy.maxSubdomainEntries > 0 && !reasons.some((r) => r.code === 'too_many_targets')) {
    const domains = new Set<string>();
    for (const t of accepted) {
      if (kindOf(t.expression) !== 'domain') continue;
      const d = registrableDomain(hostOf(t.expression));
      if (d !== null) domains.add(d);
    }
    if (domains.size > 0) {
      const crowded = [...entriesUnder(store, domains)].filter(([, n]) => n > policy.maxSubdomainEntries);
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
