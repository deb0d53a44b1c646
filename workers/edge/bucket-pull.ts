/**
 * The cron side: copies the hub's `filter` feed into the bucket in the static layout (static-layout.ts), so
 * isolates keep loading and refreshing from the bucket while the hub is unreachable. Like `takedown
 * publish`, each run lists the latest snapshot and one delta to the latest from every version the previous
 * index named, so an isolate at any of them needs one object to catch up. Every artifact is checked against
 * the pinned keys before it is stored (signature, feed, versions, freshness, payload digest); the state
 * checksum is checked by every isolate that applies it.
 */
import type { Manifest } from '../../src/core/artifact.ts';
import type { HubClient } from '../../src/core/hub-client.ts';
import type { PublicKey } from '../../src/core/keys.ts';
import { type FeedIndex, feedEntry, STATIC_FORMAT, type StaticIndex } from '../../src/core/static-layout.ts';
import type { Failure } from '../../src/core/types.ts';
import { verifyArtifact } from '../../src/core/verify.ts';
import type { FeedStore } from './feed-store.ts';
import { hubProblem } from './hub-problem.ts';
import { FEED, MAX_ARTIFACT_BYTES } from './replica.ts';

/** Versions a run keeps deltas from (the newest ones): each costs one hub request per run. */
const MAX_DELTA_BASES = 32;

/** What one cron run did. */
export interface PullReport {
  /** The version index.json named before the run (null: none). */
  from: number | null;
  /** The version it names after the run. */
  to: number | null;
  stored: { kind: Manifest['kind']; from: number; to: number }[];
  removed: number;
  problems: Failure[];
}

/** Copies what the hub has beyond the bucket's index into the bucket; never throws. */
export async function pullIntoBucket(
  store: FeedStore,
  hub: HubClient,
  trust: readonly PublicKey[],
  now: number,
): Promise<PullReport> {
  const report: PullReport = { from: null, to: null, stored: [], removed: 0, problems: [] };
  try {
    const previous = await store.index();
    const before = feedEntry(previous, FEED);
    report.from = before?.version ?? null;
    report.to = report.from;
    const snapshot = await pullSnapshot(store, hub, trust, now, before, report);
    if (!snapshot) return report;
    let latest = snapshot.version;
    const deltas: FeedIndex['deltas'] = [];
    const bases = [snapshot.version, before?.version, ...(before?.deltas ?? []).map((d) => d.from)];
    const froms = [...new Set(bases.filter((v): v is number => Number.isSafeInteger(v)))]
      .sort((a, b) => b - a)
      .slice(0, MAX_DELTA_BASES);
    for (const from of froms) {
      const answer = await hub.delta(FEED, from);
      if (answer.kind === 'failed') {
        // A half-copied index would send isolates to the hub for nothing: keep the previous one.
        report.problems.push(hubProblem(answer));
        return report;
      }
      if (answer.kind === 'current') latest = Math.max(latest, from);
      if (answer.kind !== 'artifact') continue;
      const checked = await verifyArtifact(answer.bytes, options(trust, from, now));
      if (!checked.ok) {
        report.problems.push(checked.error);
        continue;
      }
      const manifest = checked.value.manifest;
      deltas.push({
        from,
        to: manifest.to,
        ...(await store.putArtifact(FEED, answer.bytes, manifest)),
      });
      report.stored.push(summary(manifest));
      latest = Math.max(latest, manifest.to);
    }
    await keepProofs(store, hub, deltas, snapshot.version, report);
    const index: StaticIndex = {
      format: STATIC_FORMAT,
      version: latest,
      feeds: { [FEED]: { version: latest, snapshot, deltas: deltas.sort((a, b) => a.from - b.from) } },
    };
    if (JSON.stringify(index) !== JSON.stringify(previous)) await store.putIndex(index);
    report.to = latest;
    // Files the previous index named stay one more run: an isolate may be reading them right now.
    report.removed = await store.removeUnlisted(FEED, [index, previous]);
  } catch (error) {
    report.problems.push({ code: 'bucket_error', message: String(error) });
  }
  return report;
}

/**
 * Keeps the hub's consistency proofs from every delta's base to where its delta and the snapshot lead, so an
 * isolate holding the base's checkpoint can check the log while the hub is down (a bucket the cron fills has
 * no log tiles). The proofs are checked by the isolates against the checkpoints they hold, never trusted.
 */
async function keepProofs(
  store: FeedStore,
  hub: HubClient,
  deltas: FeedIndex['deltas'],
  snapshotVersion: number,
  report: PullReport,
): Promise<void> {
  const pairs = new Set<string>();
  for (const d of deltas) {
    if (d.from < 1) continue;
    pairs.add(`${d.from}-${d.to}`);
    if (d.from < snapshotVersion) pairs.add(`${d.from}-${snapshotVersion}`);
  }
  for (const pair of pairs) {
    const [from, to] = pair.split('-').map(Number) as [number, number];
    const answer = await hub.consistencyProof(from, to);
    if (answer.kind === 'failed') {
      report.problems.push(hubProblem(answer));
      continue;
    }
    await store.putConsistencyAnswer(from, to, answer.body);
  }
}

/** The snapshot entry of the new index: the stored one while the hub's ETag matches, else a verified new one. */
async function pullSnapshot(
  store: FeedStore,
  hub: HubClient,
  trust: readonly PublicKey[],
  now: number,
  before: FeedIndex | null,
  report: PullReport,
): Promise<FeedIndex['snapshot'] | null> {
  const etag = before ? (await store.metadata(before.snapshot.path))?.etag : undefined;
  const answer = await hub.snapshot(FEED, etag ? { etag } : {});
  if (answer.kind === 'failed') {
    report.problems.push(hubProblem(answer));
    return null;
  }
  if (answer.kind === 'current' && etag) return before?.snapshot ?? null;
  if (answer.kind !== 'artifact') {
    report.problems.push({
      code: 'hub_error',
      message: `the hub answered "${answer.kind}" to a snapshot request`,
    });
    return null;
  }
  const bytes = answer.bytes;
  const checked = await verifyArtifact(bytes, options(trust, null, now));
  if (!checked.ok) {
    report.problems.push(checked.error);
    return null;
  }
  const manifest = checked.value.manifest;
  if (before && manifest.to < before.snapshot.version) {
    report.problems.push({
      code: 'rollback',
      message: `hub snapshot ${manifest.to} is older than the stored ${before.snapshot.version}`,
    });
    return null;
  }
  const stored = await store.putArtifact(FEED, bytes, manifest, answer.etag ? { etag: answer.etag } : {});
  report.stored.push(summary(manifest));
  return { version: manifest.to, ...stored };
}

function options(trust: readonly PublicKey[], appliedVersion: number | null, now: number) {
  return { trustedKeys: trust, feed: FEED, appliedVersion, now, maxBytes: MAX_ARTIFACT_BYTES };
}

const summary = (m: Manifest) => ({ kind: m.kind, from: m.from, to: m.to });
