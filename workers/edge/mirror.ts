/**
 * The cron side: pulls the hub's new `filter` artifacts into the bucket, so that isolates keep loading and
 * refreshing from the bucket while the hub is unreachable. Each artifact is checked against the pinned keys
 * and the bucket's chain before it is stored (signature, feed, versions, freshness, payload digest); the
 * resulting-state checksum is checked by every isolate that applies it.
 */
import type { Manifest } from '../../src/core/artifact.ts';
import type { PublicKey } from '../../src/core/keys.ts';
import type { Failure } from '../../src/core/types.ts';
import { verifyArtifact } from '../../src/core/verify.ts';
import type { FeedStore, StoredFeed } from './feed-store.ts';
import type { HubClient } from './hub-client.ts';
import { FEED, MAX_ARTIFACT_BYTES } from './replica.ts';

/**
 * A chain longer than this makes a cold isolate read too many objects: the next run stores a fresh snapshot
 * and prunes the chain instead.
 */
export const MAX_CHAIN_LINKS = 16;

/** What one cron run did. */
export interface MirrorReport {
  /** The chain's newest version before the run (null: the bucket had no snapshot). */
  from: number | null;
  stored: { kind: Manifest['kind']; from: number; to: number }[];
  pruned: number;
  problem: Failure | null;
}

/** Pulls what the hub has beyond the bucket's chain and stores it; never throws. */
export async function mirrorFeed(
  store: FeedStore,
  hub: HubClient,
  trust: readonly PublicKey[],
  now: number,
): Promise<MirrorReport> {
  const report: MirrorReport = { from: null, stored: [], pruned: 0, problem: null };
  try {
    const stored = await store.describe();
    const end = chainEnd(stored);
    report.from = end;
    if (end !== null && !needsSnapshot(stored, now)) {
      const answer = await hub.delta(FEED, end);
      if (!answer.ok) return { ...report, problem: answer.error };
      if (answer.value.kind === 'current') return report;
      if (answer.value.kind === 'artifact') {
        const bytes = answer.value.bytes;
        const checked = await verifyArtifact(bytes, options(trust, end, now));
        if (!checked.ok) return { ...report, problem: checked.error };
        await store.putDelta(bytes, checked.value.manifest);
        report.stored.push(summary(checked.value.manifest));
        return report;
      }
    }
    const bytes = await hub.snapshot(FEED);
    if (!bytes.ok) return { ...report, problem: bytes.error };
    const checked = await verifyArtifact(bytes.value, options(trust, null, now));
    if (!checked.ok) return { ...report, problem: checked.error };
    const manifest = checked.value.manifest;
    const previous = stored.snapshot;
    // The same version signed again is worth storing (it expires later); an older one never is.
    if (previous && (manifest.to < previous.to || (manifest.to === previous.to && manifest.createdAt <= previous.createdAt))) {
      return report;
    }
    await store.putSnapshot(bytes.value, manifest);
    report.stored.push(summary(manifest));
    report.pruned = await store.pruneDeltasBelow(manifest.to, stored.links);
    return report;
  } catch (error) {
    return { ...report, problem: { code: 'bucket_error', message: String(error) } };
  }
}

/** The newest version reachable from the snapshot along stored links. */
export function chainEnd(stored: StoredFeed): number | null {
  if (!stored.snapshot) return null;
  let version = stored.snapshot.to;
  for (let next = stored.links.get(version); next !== undefined; next = stored.links.get(version)) version = next;
  return version;
}

/** A fresh snapshot is due when the chain is long or the stored one is past half its lifetime. */
function needsSnapshot(stored: StoredFeed, now: number): boolean {
  const s = stored.snapshot;
  if (!s) return true;
  return stored.links.size >= MAX_CHAIN_LINKS || now >= s.createdAt + (s.expiresAt - s.createdAt) / 2;
}

function options(trust: readonly PublicKey[], appliedVersion: number | null, now: number) {
  return { trustedKeys: trust, feed: FEED, appliedVersion, now, maxBytes: MAX_ARTIFACT_BYTES };
}

const summary = (m: Manifest) => ({ kind: m.kind, from: m.from, to: m.to });
