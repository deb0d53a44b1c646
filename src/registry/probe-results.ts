/** Probe keys (one pinned Ed25519 key per prober token) and the signed results probes post. */

import type { SignedObservation } from '../core/probe-evidence.ts';
import { failure, type Store, success } from './store.ts';
import type { RegistryResult } from './types.ts';

export interface ProbeKey {
  tokenId: number;
  keyId: string;
  /** Base64 of the raw public key. */
  publicKey: string;
  registeredAt: string;
}

interface KeyRow {
  token_id: number;
  key_id: string;
  public_key: string;
  registered_at: string;
}

const toKey = (r: KeyRow): ProbeKey => ({
  tokenId: r.token_id,
  keyId: r.key_id,
  publicKey: r.public_key,
  registeredAt: r.registered_at,
});

/** The key pinned for prober token `tokenId`, or null before its first registration. */
export function probeKeyOf(store: Store, tokenId: number): ProbeKey | null {
  const row = store.stmt('SELECT * FROM probe_keys WHERE token_id = ?').get(tokenId) as KeyRow | undefined;
  return row ? toKey(row) : null;
}

/**
 * Pins `publicKey` for the token on first use; registering the same key again is a no-op. Another key for the
 * same token, or a key another token pinned, is a `conflict`: a stolen token alone cannot swap in its own key.
 */
export function registerProbeKey(
  store: Store,
  tokenId: number,
  keyId: string,
  publicKey: string,
): RegistryResult<ProbeKey & { created: boolean }> {
  return store.write(() => {
    const pinned = probeKeyOf(store, tokenId);
    if (pinned) {
      if (pinned.publicKey === publicKey) return success({ ...pinned, created: false });
      return failure(
        'conflict',
        `token ${tokenId} has key ${pinned.keyId} pinned since ${pinned.registeredAt}; a new key needs a new token`,
      );
    }
    if (store.stmt('SELECT 1 FROM probe_keys WHERE key_id = ?').get(keyId) !== undefined) {
      return failure('conflict', `key ${keyId} is pinned for another token`);
    }
    const at = store.nowIso();
    store
      .stmt('INSERT INTO probe_keys (token_id, key_id, public_key, registered_at) VALUES (?, ?, ?, ?)')
      .run(tokenId, keyId, publicKey, at);
    return success({ tokenId, keyId, publicKey, registeredAt: at, created: true });
  });
}

/** Why one result of a batch is outside its plan. */
export interface OutsidePlan {
  index: number;
  reason: string;
}

export type RecordedResults = { stored: number } | { outside: OutsidePlan[] };

/** Clock skew tolerated between the probe and the hub when checking observation times. */
const SKEW_MS = 60_000;

/**
 * Stores a batch of results whose signatures the caller has verified, all or none: each must name a plan of
 * this token, an entry of that plan (or no entry, for the canary) and a time between the plan's creation and
 * now. Returns the stored count, or every result outside its plan (and nothing written).
 */
export function recordResults(
  store: Store,
  tokenId: number,
  keyId: string,
  results: readonly SignedObservation[],
): RegistryResult<RecordedResults> {
  return store.write<RecordedResults>(() => {
    const plan = store.stmt('SELECT token_id, created_at FROM probe_plans WHERE id = ?');
    const inPlan = store.stmt('SELECT 1 FROM probe_plan_entries WHERE plan_id = ? AND expression = ?');
    const now = store.now().getTime();
    const outside: OutsidePlan[] = [];
    results.forEach((r, index) => {
      const row = plan.get(r.planId) as { token_id: number; created_at: string } | undefined;
      if (!row || row.token_id !== tokenId) {
        outside.push({ index, reason: `plan ${r.planId} was not handed to this token` });
        return;
      }
      const at = Date.parse(r.observedAt);
      if (!(at >= Date.parse(row.created_at) - SKEW_MS && at <= now + SKEW_MS)) {
        outside.push({ index, reason: `observedAt ${r.observedAt} is outside plan ${r.planId}'s time` });
        return;
      }
      if (r.check === 'canary' ? r.expression !== null : r.expression === null) {
        outside.push({ index, reason: 'a canary result names no entry; every other result names one' });
        return;
      }
      if (r.expression !== null && inPlan.get(r.planId, r.expression) === undefined) {
        outside.push({ index, reason: `entry ${r.expression} is not in plan ${r.planId}` });
      }
    });
    if (outside.length > 0) return success({ outside });
    const insert = store.stmt(
      `INSERT INTO probe_results (plan_id, token_id, key_id, isp, target, check_kind, expression, query, verdict,
         reason, canary_version, raw, observed_at, received_at, signature)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const receivedAt = store.nowIso();
    for (const r of results) {
      insert.run(
        r.planId,
        tokenId,
        keyId,
        r.isp,
        r.target,
        r.check,
        r.expression,
        r.query,
        r.verdict,
        r.reason,
        r.canaryVersion,
        r.raw,
        new Date(r.observedAt).toISOString(),
        receivedAt,
        r.signature,
      );
    }
    return success({ stored: results.length });
  });
}
