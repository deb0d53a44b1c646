/**
 * A full read of the registry into every feed's snapshot payload, at one version: what a background
 * snapshot build and the hub's start need. It runs in a worker thread on its own read-only connection
 * inside one read transaction (WAL), so neither requests nor registry writes wait for it.
 */

import { payloadOffsetOf } from '../core/artifact.ts';
import { confirmationWidths, type KeyWidths, type PerClass } from '../core/confirm.ts';
import { encodeFilterSnapshot } from '../core/filter-payload.ts';
import { snapshotLine } from '../core/plain-payload.ts';
import { MutableSetHash } from '../core/set-hash.ts';
import type { Category, FeedName } from '../core/types.ts';
import { checkpointSource } from '../registry/checkpoints.ts';
import type { Registry } from '../registry/registry.ts';
import { kindOf } from '../registry/rows.ts';
import { runWholeListTask } from '../util/ts-worker.ts';
import { type Signing, storedSnapshot } from './artifact-builders.ts';
import { FEED_NAMES } from './feed-definitions.ts';
import { wideKeysOf } from './filter-mirror.ts';
import { decodeWideKeys, encodeWideKeys } from './mirror-seed.ts';
import { SnapshotWriter, type WrittenSnapshot } from './snapshot-writer.ts';

/** One feed's snapshot payload and what its manifest announces. */
export interface ScannedSnapshot {
  payload: Uint8Array;
  entryCount: number;
  checksum: string;
  /** `filter` only: the key widths of the root and path classes. */
  bits?: KeyWidths;
  /** `dns` and `url` only: the payload's line index and set hash, so the hub loads it without a re-read. */
  starts?: Uint32Array;
  sum?: Uint32Array;
}

export interface FeedScan {
  version: number;
  /** Commit time of `version` (ms since the epoch; 0 for version 0). */
  committedAt: number;
  snapshots: Record<FeedName, ScannedSnapshot>;
  /**
   * Sorted 53-bit keys of every active expression per key class, repeats kept: the filter mirror's seed;
   * views into `wideKeysFile`, which the hub stores as it is for its next start (mirror-seed.ts).
   */
  filterWide: PerClass<Float64Array>;
  wideKeysFile: Uint8Array;
  /**
   * Every feed's snapshot artifact, signed in the scan's thread: the hub stores these bytes as they are,
   * and each snapshot's `payload` is a view into its artifact, so nothing N-sized is copied on its loop.
   */
  artifacts: Record<FeedName, Uint8Array>;
}

export interface ScanOptions {
  confidential: readonly Category[];
  /** How the snapshot artifacts are signed (a CryptoKey crosses to a worker thread as it is). */
  signing: Pick<Signing, 'key' | 'ttlMs'>;
  /**
   * The transparency log's origin: the scan signs its version's checkpoint from its own connection (a
   * function cannot cross to a worker thread); absent, the artifacts carry none.
   */
  logOrigin?: string;
  /** Bloom false-positive rate of the filter snapshot. */
  fpr: number;
  /** The widths of the previous filter snapshot: kept unless the entry count needs more. */
  minBits?: KeyWidths;
}

export interface ScanRequest extends ScanOptions {
  databasePath: string;
}

/**
 * Reads every feed of `registry` at its current version: ONE pass over the active entries, in pages, inside
 * one read transaction. Each row becomes its snapshot line, written into the `url` payload and, for a domain,
 * the `dns` one (hashed once for both checksums); its expression is kept for the filter.
 */
export async function scanRegistry(registry: Registry, options: ScanOptions): Promise<FeedScan> {
  const confidential = new Set<string>(options.confidential);
  const read = registry.inReadTransaction(() => {
    const version = registry.currentVersion();
    const info = version > 0 ? registry.versionInfo(version) : null;
    const sums = { dns: new MutableSetHash(), url: new MutableSetHash() };
    const dns = new SnapshotWriter(null);
    const url = new SnapshotWriter(sums.url, sums.dns);
    const expressions: string[] = [];
    for (const page of registry.activeEntryPages()) {
      for (const [expression, category, action] of page) {
        expressions.push(expression);
        if (confidential.has(category)) continue;
        const kind = kindOf(expression);
        const line = snapshotLine({ expression, kind, category, action });
        url.push(expression, line, kind === 'domain');
        if (kind === 'domain') dns.push(expression, line);
      }
    }
    // The url writer first: its last lines add to the dns sum too.
    const urlSnapshot = plainScanned(url.finish(), sums.url);
    const dnsSnapshot = plainScanned(dns.finish(), sums.dns);
    return {
      version,
      committedAt: info ? Date.parse(info.createdAt) : 0,
      dns: dnsSnapshot,
      url: urlSnapshot,
      expressions,
    };
  });
  // The expressions (tens of bytes each, millions of them) are let go before the artifacts are signed.
  let expressions: string[] | null = read.expressions;
  read.expressions = [];
  const wideKeysFile = encodeWideKeys(wideKeysOf(expressions));
  const filterWide = decodeWideKeys(wideKeysFile) as PerClass<Float64Array>;
  const counts = { root: distinctCount(filterWide.root), path: distinctCount(filterWide.path) };
  const bits = confirmationWidths(counts, options.fpr, options.minBits);
  const filter = await encodeFilterSnapshot(expressions, { fpr: options.fpr, bits });
  expressions = null;
  const scanned = {
    version: read.version,
    committedAt: read.committedAt,
    snapshots: {
      dns: read.dns,
      url: read.url,
      filter: { payload: filter.payload, entryCount: filter.entryCount, checksum: filter.checksum, bits },
    },
    filterWide,
    wideKeysFile,
  };
  const artifacts = {} as Record<FeedName, Uint8Array>;
  const { key, ttlMs } = options.signing;
  const checkpoints =
    options.logOrigin === undefined ? null : checkpointSource(registry, key, options.logOrigin);
  const signing: Signing = {
    key,
    ttlMs,
    checkpoint: async (version) => (await checkpoints?.(version))?.note ?? '',
  };
  for (const feed of FEED_NAMES) {
    artifacts[feed] = await storedSnapshot(feed, scanned, signing);
    scanned.snapshots[feed].payload = artifacts[feed].subarray(payloadOffsetOf(artifacts[feed]));
  }
  return { ...scanned, artifacts };
}

/** Runs {@link scanRegistry} in a worker thread on a read-only connection to `request.databasePath`. */
export function scanInWorker(request: ScanRequest, signal?: AbortSignal): Promise<FeedScan> {
  return runWholeListTask(new URL('./scan-worker.ts', import.meta.url), request, 'feed scan', signal);
}

/** The buffers of a scan, moved rather than copied across threads. */
export function transferables(scan: FeedScan): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>([
    scan.filterWide.root.buffer as ArrayBuffer,
    scan.filterWide.path.buffer as ArrayBuffer,
  ]);
  for (const snapshot of Object.values(scan.snapshots)) {
    for (const array of [snapshot.payload, snapshot.starts, snapshot.sum])
      if (array) buffers.add(array.buffer as ArrayBuffer);
  }
  for (const artifact of Object.values(scan.artifacts)) buffers.add(artifact.buffer as ArrayBuffer);
  return [...buffers];
}

function plainScanned(written: WrittenSnapshot, sum: MutableSetHash): ScannedSnapshot {
  const { payload, starts, entryCount } = written;
  const done = sum.done();
  return { payload, entryCount, checksum: done.hex(), starts, sum: done.words };
}

function distinctCount(sorted: Float64Array): number {
  let count = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) count++;
  return count;
}
