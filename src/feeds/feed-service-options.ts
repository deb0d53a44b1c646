import { DEFAULT_BLOOM_FPR } from '../core/confirm.ts';
import type { SigningKey } from '../core/keys.ts';
import type { Category } from '../core/types.ts';
import { DEFAULT_CONFIDENTIAL_CATEGORIES } from '../core/types.ts';
import type { ArtifactStore } from './artifact-store.ts';

const SECOND = 1000;
const HOUR = 3600 * SECOND;

/** How the hub publishes its feeds; everything but the first three has a default. */
export interface FeedServiceOptions {
  /** The registry's SQLite file (WAL). The service reads it through its own read-only connections. */
  databasePath: string;
  signingKey: SigningKey;
  /** Where snapshots are kept (a DirectoryArtifactStore on `data/artifacts` for the hub). */
  store: ArtifactStore;
  /** Categories published only in the hashed `filter` feed (default csam). */
  confidentialCategories?: readonly Category[];
  /** Build new snapshots after this many net changes since the last ones, or 1 % of the entries when more (default 10 000)... */
  snapshotAfterChanges?: number;
  /** ...or this long after the last ones when anything changed, whichever comes first (default 5 min). */
  snapshotAfterMs?: number;
  /** Snapshots kept per feed; the oldest one is the delta horizon (default 3). */
  keepSnapshots?: number;
  /** Freshness of snapshots: expiresAt = createdAt + this (default 24 h). */
  snapshotTtlMs?: number;
  /**
   * Freshness of deltas (default 24 h). A consumer's state is only ever renewed by a newer version, so a
   * delta TTL shorter than the longest quiet spell of the registry would turn every consumer stale.
   */
  deltaTtlMs?: number;
  /** Configured Bloom rate f0 of filter snapshots (default 1/32): it sets the key widths (docs/DECISIONS.md). */
  filterFpr?: number;
  /** Delta cache bounds (default 256 artifacts, 64 MiB). */
  deltaCacheEntries?: number;
  deltaCacheBytes?: number;
  /** How often the registry is checked for versions committed without `committed()` (default 200 ms). */
  pollMs?: number;
  /**
   * A gap of more net changes than this, or than 2 % of the entries when more (a mass revoke), is closed by
   * a background rescan instead of being applied change by change (default 20 000).
   */
  maxIncrementalChanges?: number;
  /** The transparency log's signed checkpoint of a version, carried by its artifacts (default: none). */
  checkpoint?: (version: number) => Promise<string>;
  /** The log's origin, for scans to sign their version's checkpoint in their own thread (default: none). */
  logOrigin?: string;
  /** The clock (ms since the epoch). */
  now?: () => number;
  /** Failures of background work (scans, mirror checks); default console.error. */
  onError?: (error: Error) => void;
}

export type FeedServiceConfig = Required<Omit<FeedServiceOptions, 'logOrigin'>> &
  Pick<FeedServiceOptions, 'logOrigin'>;

/** The options with their defaults; throws RangeError naming a bad number. */
export function feedServiceConfig(options: FeedServiceOptions): FeedServiceConfig {
  const config: FeedServiceConfig = {
    confidentialCategories: DEFAULT_CONFIDENTIAL_CATEGORIES,
    snapshotAfterChanges: 10_000,
    snapshotAfterMs: 300 * SECOND,
    keepSnapshots: 3,
    snapshotTtlMs: 24 * HOUR,
    deltaTtlMs: 24 * HOUR,
    filterFpr: DEFAULT_BLOOM_FPR,
    deltaCacheEntries: 256,
    deltaCacheBytes: 64 * 1024 * 1024,
    pollMs: 200,
    maxIncrementalChanges: 20_000,
    now: Date.now,
    checkpoint: async () => '',
    onError: (error) => console.error(`feeds: ${error.message}`),
    // An option given as undefined keeps its default.
    ...(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as FeedServiceOptions),
  };
  const counts = [
    'snapshotAfterChanges',
    'snapshotAfterMs',
    'keepSnapshots',
    'snapshotTtlMs',
    'deltaTtlMs',
    'deltaCacheEntries',
    'deltaCacheBytes',
    'pollMs',
    'maxIncrementalChanges',
  ] as const;
  for (const name of counts) {
    const value = config[name];
    if (!Number.isSafeInteger(value) || value < 1)
      throw new RangeError(`${name} ${value} is not a positive integer`);
  }
  if (!(config.filterFpr > 0 && config.filterFpr < 1)) {
    throw new RangeError(`filterFpr ${config.filterFpr} is not in (0, 1)`);
  }
  return config;
}
