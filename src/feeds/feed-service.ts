/**
 * The hub's feed publisher, composed once. Every registry version is visible to consumers as soon as it
 * is committed (`committed()`, plus a short poll for writes from other processes): the in-memory mirrors
 * advance with the version's net changes, waiting long-polls are answered, and a consumer at any version
 * from the oldest retained snapshot on gets ONE delta to the latest, built on request from the change log
 * and cached. Snapshots are rebuilt in a worker thread after enough changes or time.
 */
import { type KeyWidths, keyWidthsText, type PerClass } from '../core/confirm.ts';
import { containsKey } from '../core/filter-keys.ts';
import type { FeedName } from '../core/types.ts';
import { buildDelta, servedSnapshot } from './artifact-builders.ts';
import { FEED_NAMES } from './feed-definitions.ts';
import { type DnsListener, FeedFollower, netChangesInTurns, snapshotSigning } from './feed-follower.ts';
import type { FeedMirrors } from './feed-mirrors.ts';
import {
  type FeedServiceConfig,
  type FeedServiceOptions,
  feedServiceConfig,
} from './feed-service-options.ts';
import { issuedAt } from './freshness.ts';
import { LruCache } from './lru-cache.ts';
import type { HeldArtifact, StoredArtifact } from './served-artifact.ts';
import { SnapshotCatalog, snapshotGzipKey, snapshotKey } from './snapshot-catalog.ts';
import { type StaticFeed, writeStaticSite } from './static-site.ts';

/** What a consumer at `since` gets. */
export type DeltaAnswer =
  /** The service has not built its first snapshots yet (retry shortly). */
  | { kind: 'not_ready' }
  /** `since` is the latest version. */
  | { kind: 'current'; version: number }
  | { kind: 'artifact'; artifact: HeldArtifact }
  /** No delta can start at `since` (`too_old`: before the horizon; `ahead`: not a version of this hub). */
  | {
      kind: 'resync';
      reason: 'too_old' | 'ahead';
      version: number;
      horizon: number;
      snapshotVersion: number;
    };

/** A feed as `GET /v1/feeds` lists it. */
export interface FeedSummary {
  feed: FeedName;
  encoding: 'plain' | 'hashed';
  /** The latest version (every feed follows the registry's version). */
  version: number | null;
  snapshotVersion: number | null;
  /** The oldest version a delta starts from; older consumers resync from the snapshot. */
  oldestDeltaBase: number | null;
  /** Active entries the feed carries (for `filter`: expressions, two sharing a key counted twice). */
  entryCount: number | null;
  /** `filter` only: key widths of the latest snapshot. */
  bits?: KeyWidths;
}

export class FeedService {
  readonly #config: FeedServiceConfig;
  readonly #follower: FeedFollower;
  readonly #catalog: SnapshotCatalog;
  readonly #deltas: LruCache<string, HeldArtifact>;
  readonly #building = new Map<string, Promise<HeldArtifact>>();
  readonly #snapshots = new Map<FeedName, { key: string; artifact: Promise<StoredArtifact> }>();

  constructor(options: FeedServiceOptions) {
    this.#config = feedServiceConfig(options);
    this.#catalog = new SnapshotCatalog(this.#config.store, this.#config.keepSnapshots);
    this.#deltas = new LruCache(this.#config.deltaCacheEntries, this.#config.deltaCacheBytes);
    this.#follower = new FeedFollower(this.#config, this.#catalog);
  }

  /** Loads the retained snapshots, seeds the feeds with a first scan, then follows the registry. */
  start(): Promise<void> {
    return this.#follower.start();
  }

  /** Stops following the registry and answers waiting long-polls. */
  stop(): Promise<void> {
    return this.#follower.stop();
  }

  /** Call after every committed registry write; the version becomes visible on the next turn of the loop. */
  committed(version: number): void {
    this.#follower.committed(version);
  }

  /** Resolves with the visible version once it passes `after`, or after `timeoutMs` (see FeedFollower). */
  waitForVersion(after: number, timeoutMs: number, signal?: AbortSignal): Promise<number | null> {
    return this.#follower.waitForVersion(after, timeoutMs, signal);
  }

  /** Builds snapshots of the current version now (after a build in progress); failures go to onError. */
  rebuildSnapshots(): Promise<void> {
    return this.#follower.rebuildSnapshots();
  }

  /** Calls `listener` with the `dns` feed at every newly visible version (see FeedFollower). */
  onDnsVersion(listener: DnsListener): void {
    this.#follower.onDnsVersion(listener);
  }

  /** The latest visible version; null before the first scan. */
  get version(): number | null {
    return this.#follower.mirrors?.version ?? null;
  }

  /** Whether every feed has a snapshot and deltas can be built. */
  ready(): boolean {
    return (
      this.#follower.mirrors !== null && FEED_NAMES.every((feed) => this.#catalog.latest(feed) !== undefined)
    );
  }

  feeds(): FeedSummary[] {
    const mirrors = this.#follower.mirrors;
    return FEED_NAMES.map((feed) => {
      const latest = this.#catalog.latest(feed);
      const summary: FeedSummary = {
        feed,
        encoding: feed === 'filter' ? 'hashed' : 'plain',
        version: mirrors?.version ?? null,
        snapshotVersion: latest?.version ?? null,
        oldestDeltaBase: this.#catalog.retained(feed)[0]?.version ?? null,
        entryCount:
          (feed === 'filter' ? mirrors?.filter.expressionCount : mirrors?.[feed].entryCount) ?? null,
      };
      return feed === 'filter' && latest?.bits !== undefined ? { ...summary, bits: latest.bits } : summary;
    });
  }

  /**
   * The latest snapshot of `feed`, re-signed when half its freshness has passed; null before the first.
   * Its payload is read from the store as it is sent.
   */
  snapshot(feed: FeedName): Promise<StoredArtifact> | null {
    const stored = this.#catalog.latest(feed);
    if (!stored) return null;
    const { signingKey, snapshotTtlMs } = this.#config;
    // Stored snapshots are dated at their version's commit (see freshness.ts).
    const createdAt = issuedAt(stored.manifest.createdAt, this.#config.now(), snapshotTtlMs);
    const key = `${stored.version}/${createdAt}/${signingKey.id}`;
    const served = this.#snapshots.get(feed);
    if (served?.key === key) return served.artifact;
    const payload = {
      store: this.#config.store,
      key: snapshotKey(feed, stored.version),
      offset: stored.head.length,
      gzipKey: snapshotGzipKey(feed, stored.version, stored.manifest.payloadSha256),
    };
    const artifact = servedSnapshot(stored, payload, createdAt, snapshotSigning(this.#config));
    this.#snapshots.set(feed, { key, artifact });
    return artifact;
  }

  /**
   * The delta from `since` to the latest version. For `filter`, `bits` overrides the key widths, which are
   * otherwise those of the snapshot that covers `since` (the one such a consumer started from).
   */
  async delta(feed: FeedName, since: number, bits?: KeyWidths): Promise<DeltaAnswer> {
    if (since > (this.#follower.mirrors?.version ?? Number.POSITIVE_INFINITY)) await this.#follower.advance();
    const mirrors = this.#follower.mirrors;
    const retained = this.#catalog.retained(feed);
    const horizon = retained[0]?.version;
    const snapshotVersion = retained.at(-1)?.version;
    if (!mirrors || horizon === undefined || snapshotVersion === undefined) return { kind: 'not_ready' };
    if (since === mirrors.version) return { kind: 'current', version: since };
    if (since > mirrors.version || since < horizon) {
      const reason = since > mirrors.version ? 'ahead' : 'too_old';
      return { kind: 'resync', reason, version: mirrors.version, horizon, snapshotVersion };
    }
    const widths = feed === 'filter' ? (bits ?? this.#catalog.covering(feed, since)?.bits) : undefined;
    return { kind: 'artifact', artifact: await this.#delta(mirrors, feed, since, widths) };
  }

  /**
   * The hash search of memory-short filter consumers: which of these confirmation keys, per class at its
   * width in `bits`, are blocked at the latest version. Null before the first scan.
   */
  confirm(
    bits: KeyWidths,
    keys: PerClass<readonly number[]>,
  ): { version: number; blocked: PerClass<number[]> } | null {
    const mirrors = this.#follower.mirrors;
    if (!mirrors) return null;
    const sets = mirrors.filter.keys(bits);
    const blocked = (found: readonly number[], set: Float64Array) =>
      [...new Set(found)].filter((key) => containsKey(set, key));
    return {
      version: mirrors.version,
      blocked: { root: blocked(keys.root, sets.root), path: blocked(keys.path, sets.path) },
    };
  }

  /**
   * Writes a static copy of the feeds to `outDir` for any web server or CDN: the latest snapshots, deltas
   * to the latest from every retained snapshot and from every version a previous publish to `outDir` named,
   * and index.json (see static-site.ts). Returns the version published.
   */
  async publishStatic(outDir: string): Promise<number> {
    const mirrors = this.#follower.mirrors;
    if (!mirrors || !this.ready()) throw new Error('feeds are not ready: nothing to publish yet');
    return writeStaticSite(outDir, mirrors.version, async (feed, previousFroms): Promise<StaticFeed> => {
      const snapshot = await (this.snapshot(feed) as Promise<StoredArtifact>);
      const retained = this.#catalog.retained(feed);
      const horizon = retained[0]?.version ?? mirrors.version;
      const froms = [...new Set([...retained.map((r) => r.version), ...previousFroms])]
        .filter((v) => v >= horizon && v < mirrors.version)
        .sort((a, b) => a - b);
      const deltas: HeldArtifact[] = [];
      for (const from of froms) {
        const widths = feed === 'filter' ? this.#catalog.covering(feed, from)?.bits : undefined;
        deltas.push(await this.#delta(mirrors, feed, from, widths));
      }
      return { snapshot, deltas };
    });
  }

  /** The delta `since` -> `mirrors.version`, from the cache or built once however many ask at once. */
  async #delta(
    mirrors: FeedMirrors,
    feed: FeedName,
    since: number,
    bits: KeyWidths | undefined,
  ): Promise<HeldArtifact> {
    const { signingKey, deltaTtlMs } = this.#config;
    const createdAt = issuedAt(mirrors.committedAt, this.#config.now(), deltaTtlMs);
    const widths = bits ? keyWidthsText(bits) : '';
    const key = `${feed}/${since}/${mirrors.version}/${widths}/${createdAt}/${signingKey.id}`;
    const cached = this.#deltas.get(key) ?? this.#building.get(key);
    if (cached) return cached;
    const building = this.#buildDelta(mirrors, feed, since, bits, createdAt);
    this.#building.set(key, building);
    try {
      const artifact = await building;
      this.#deltas.set(key, artifact, artifact.bytes.length);
      return artifact;
    } finally {
      this.#building.delete(key);
    }
  }

  async #buildDelta(
    mirrors: FeedMirrors,
    feed: FeedName,
    since: number,
    bits: KeyWidths | undefined,
    createdAt: number,
  ): Promise<HeldArtifact> {
    const reader = this.#follower.reader;
    if (!reader) throw new Error('feed service is stopped');
    // The range ends at the mirrors' version, whatever the registry committed since.
    const changes = await netChangesInTurns(reader, since, mirrors.version);
    const confidential = this.#config.confidentialCategories;
    const signing = {
      key: this.#config.signingKey,
      ttlMs: this.#config.deltaTtlMs,
      checkpoint: this.#config.checkpoint,
    };
    return buildDelta({ feed, since, mirrors, changes, bits, confidential, createdAt }, signing);
  }
}
