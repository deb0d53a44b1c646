/**
 * The hub's feed publisher, composed once. Every registry version is visible to consumers as soon as it
 * is committed (`committed()`, plus a short poll for writes from other processes): the in-memory mirrors
 * advance with the version's net changes, waiting long-polls are answered, and a consumer at any version
 * from the oldest retained snapshot on gets ONE delta to the latest, built on request from the change log
 * and cached. Snapshots are rebuilt in a worker thread after enough changes or time.
 */
import { type KeyWidths, keyWidthsText, type PerClass } from '../core/confirm.ts';
import { containsKey } from '../core/filter-keys.ts';
import { PlainState } from '../core/plain-state.ts';
import type { Change } from '../core/types.ts';
import { openRegistry, type Registry } from '../registry/registry.ts';
import { buildDelta, type Signing, servedSnapshot, storedSnapshot } from './artifact-builders.ts';
import { FEED_NAMES, type FeedName } from './feed-definitions.ts';
import { advanceMirrors, type FeedMirrors, plainChanges } from './feed-mirrors.ts';
import { type FeedScan, scanInWorker } from './feed-scan.ts';
import {
  type FeedServiceConfig,
  type FeedServiceOptions,
  feedServiceConfig,
} from './feed-service-options.ts';
import { FilterMirror, MirrorDivergedError } from './filter-mirror.ts';
import { issuedAt } from './freshness.ts';
import { LruCache } from './lru-cache.ts';
import type { ServedArtifact } from './served-artifact.ts';
import { SnapshotCatalog } from './snapshot-catalog.ts';
import { type StaticFeed, writeStaticSite } from './static-site.ts';
import { VersionWaiters } from './version-waiters.ts';

/** What a consumer at `since` gets. */
export type DeltaAnswer =
  /** The service has not built its first snapshots yet (retry shortly). */
  | { kind: 'not_ready' }
  /** `since` is the latest version. */
  | { kind: 'current'; version: number }
  | { kind: 'artifact'; artifact: ServedArtifact }
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

export type DnsListener = (version: number, state: PlainState, changes: readonly Change[] | null) => void;

export class FeedService {
  readonly #dnsListeners = new Set<DnsListener>();
  readonly #config: FeedServiceConfig;
  readonly #catalog: SnapshotCatalog;
  readonly #deltas: LruCache<string, ServedArtifact>;
  readonly #building = new Map<string, Promise<ServedArtifact>>();
  readonly #snapshots = new Map<FeedName, { key: string; artifact: Promise<ServedArtifact> }>();
  readonly #waiters = new VersionWaiters();
  readonly #scanAbort = new AbortController();
  #reader: Registry | null = null;
  #mirrors: FeedMirrors | null = null;
  #scan: Promise<void> | null = null;
  #nextScan: Promise<void> | null = null;
  #changesSinceScan = 0;
  #lastScanAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #advanceQueued = false;
  #awaitingRescan = false;
  #stopped = false;

  constructor(options: FeedServiceOptions) {
    this.#config = feedServiceConfig(options);
    this.#catalog = new SnapshotCatalog(this.#config.store, this.#config.keepSnapshots);
    this.#deltas = new LruCache(this.#config.deltaCacheEntries, this.#config.deltaCacheBytes);
  }

  /**
   * Loads the retained snapshots, scans the registry once (in a worker) to seed the mirrors, stores new
   * snapshots when the stored ones are older, then follows the registry. Rejects when the first scan fails.
   */
  async start(): Promise<void> {
    const reader = openRegistry(this.#config.databasePath, { readonly: true, protectedDomainsFile: null });
    this.#reader = reader;
    try {
      await this.#catalog.load(FEED_NAMES, reader.currentVersion());
      await this.#runScan();
    } catch (error) {
      reader.close();
      this.#reader = null;
      throw error;
    }
    this.#timer = setInterval(() => this.#tick(), this.#config.pollMs);
    this.#timer.unref();
  }

  /** Stops timers and any scan, answers waiting long-polls, closes the read connection. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#scanAbort.abort();
    await this.#scan?.catch(() => undefined);
    this.#waiters.releaseAll();
    this.#reader?.close();
    this.#reader = null;
  }

  /** Call after every committed registry write; the version becomes visible on the next turn of the loop. */
  committed(version: number): void {
    if (this.#stopped || this.#advanceQueued || version <= (this.#mirrors?.version ?? -1)) return;
    this.#advanceQueued = true;
    setImmediate(() => {
      this.#advanceQueued = false;
      this.#advance();
    });
  }

  /** The latest visible version; null before the first scan. */
  get version(): number | null {
    return this.#mirrors?.version ?? null;
  }

  /** Whether every feed has a snapshot and deltas can be built. */
  ready(): boolean {
    return this.#mirrors !== null && FEED_NAMES.every((feed) => this.#catalog.latest(feed) !== undefined);
  }

  feeds(): FeedSummary[] {
    const mirrors = this.#mirrors;
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

  /** The latest snapshot of `feed`, re-signed when half its freshness has passed; null before the first. */
  snapshot(feed: FeedName): Promise<ServedArtifact> | null {
    const stored = this.#catalog.latest(feed);
    if (!stored) return null;
    const { signingKey, snapshotTtlMs } = this.#config;
    // Stored snapshots are dated at their version's commit (see freshness.ts).
    const createdAt = issuedAt(stored.manifest.createdAt, this.#config.now(), snapshotTtlMs);
    const key = `${stored.version}/${createdAt}/${signingKey.id}`;
    const served = this.#snapshots.get(feed);
    if (served?.key === key) return served.artifact;
    const artifact = servedSnapshot(stored, createdAt, this.#snapshotSigning());
    this.#snapshots.set(feed, { key, artifact });
    return artifact;
  }

  /**
   * The delta from `since` to the latest version. For `filter`, `bits` overrides the key widths, which are
   * otherwise those of the snapshot that covers `since` (the one such a consumer started from).
   */
  async delta(feed: FeedName, since: number, bits?: KeyWidths): Promise<DeltaAnswer> {
    if (since > (this.#mirrors?.version ?? Number.POSITIVE_INFINITY)) this.#advance();
    const mirrors = this.#mirrors;
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
   * Resolves with the visible version once it passes `after`, or when `timeoutMs` elapse, `signal` aborts
   * or the service stops (then with whatever is visible).
   */
  async waitForVersion(after: number, timeoutMs: number, signal?: AbortSignal): Promise<number | null> {
    const visible = this.#mirrors?.version ?? -1;
    if (visible <= after && !this.#stopped) await this.#waiters.wait(after, timeoutMs, signal);
    return this.version;
  }

  /**
   * The hash search of memory-short filter consumers: which of these confirmation keys, per class at its
   * width in `bits`, are blocked at the latest version. Null before the first scan.
   */
  confirm(
    bits: KeyWidths,
    keys: PerClass<readonly number[]>,
  ): { version: number; blocked: PerClass<number[]> } | null {
    const mirrors = this.#mirrors;
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
    const mirrors = this.#mirrors;
    if (!mirrors || !this.ready()) throw new Error('feeds are not ready: nothing to publish yet');
    return writeStaticSite(outDir, mirrors.version, async (feed, previousFroms): Promise<StaticFeed> => {
      const snapshot = await (this.snapshot(feed) as Promise<ServedArtifact>);
      const retained = this.#catalog.retained(feed);
      const horizon = retained[0]?.version ?? mirrors.version;
      const froms = [...new Set([...retained.map((r) => r.version), ...previousFroms])]
        .filter((v) => v >= horizon && v < mirrors.version)
        .sort((a, b) => a - b);
      const deltas: ServedArtifact[] = [];
      for (const from of froms) {
        const widths = feed === 'filter' ? this.#catalog.covering(feed, from)?.bits : undefined;
        deltas.push(await this.#delta(mirrors, feed, from, widths));
      }
      return { snapshot, deltas };
    });
  }

  /** Builds snapshots of the current version now (after a build in progress); failures go to onError. */
  rebuildSnapshots(): Promise<void> {
    return this.#requestScan();
  }

  /** The poll: versions committed elsewhere, and snapshots due by time. */
  #tick(): void {
    this.#advance();
    const mirrors = this.#mirrors;
    if (this.#scan || !mirrors) return;
    const changed = mirrors.version > (this.#catalog.latest('filter')?.version ?? -1);
    if (changed && this.#config.now() - this.#lastScanAt >= this.#config.snapshotAfterMs)
      void this.#requestScan();
  }

  /** Moves the mirrors to the registry's current version (synchronously) and answers long-polls. */
  #advance(): void {
    const reader = this.#reader;
    const mirrors = this.#mirrors;
    if (!reader || !mirrors || this.#stopped || this.#awaitingRescan) return;
    const target = reader.currentVersion();
    if (target <= mirrors.version) return;
    if (this.#grossChanges(mirrors.version, target) > this.#config.maxIncrementalChanges) {
      this.#rescan();
      return;
    }
    const changes = [...reader.netChanges(mirrors.version, target)];
    const info = reader.versionInfo(target);
    const committedAt = info ? Date.parse(info.createdAt) : mirrors.committedAt;
    try {
      this.#mirrors = advanceMirrors(
        mirrors,
        target,
        committedAt,
        changes,
        this.#config.confidentialCategories,
      );
    } catch (error) {
      if (!(error instanceof MirrorDivergedError)) throw error;
      this.#config.onError(error);
      this.#rescan();
      return;
    }
    this.#changesSinceScan += changes.length;
    if (this.#dnsListeners.size > 0) {
      this.#announceDns(plainChanges('dns', changes, this.#config.confidentialCategories));
    }
    this.#waiters.notify(target);
    if (this.#changesSinceScan >= this.#config.snapshotAfterChanges && !this.#scan) void this.#requestScan();
  }

  /**
   * Calls `listener` with the `dns` feed at every newly visible version: its state and its changes from
   * the previous call (null when a scan re-seeded the state). The hub's DNS primary follows it this way.
   */
  onDnsVersion(listener: DnsListener): void {
    this.#dnsListeners.add(listener);
    const mirrors = this.#mirrors;
    if (mirrors) listener(mirrors.version, mirrors.dns, null);
  }

  #announceDns(changes: readonly Change[] | null): void {
    const mirrors = this.#mirrors;
    if (!mirrors) return;
    for (const listener of this.#dnsListeners) listener(mirrors.version, mirrors.dns, changes);
  }

  /** Holds the mirrors where they are until a new scan reseeds them (a gap too large, or a mismatch). */
  #rescan(): void {
    this.#awaitingRescan = true;
    void this.#requestScan();
  }

  /** Change-log rows of versions (from, to], counted only up to the incremental limit. */
  #grossChanges(from: number, to: number): number {
    let rows = 0;
    for (let v = from + 1; v <= to && rows <= this.#config.maxIncrementalChanges; v++) {
      const info = this.#reader?.versionInfo(v);
      rows += (info?.adds ?? 0) + (info?.removes ?? 0);
    }
    return rows;
  }

  /** Starts a scan, or queues one after the scan in progress; the promise never rejects (see onError). */
  #requestScan(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#scan) {
      this.#nextScan ??= this.#scan.then(() => {
        this.#nextScan = null;
        return this.#requestScan();
      });
      return this.#nextScan;
    }
    const scan = this.#runScan()
      .catch((error: Error) => {
        this.#awaitingRescan = false;
        if (!this.#stopped) this.#config.onError(error);
      })
      .finally(() => {
        this.#scan = null;
      });
    this.#scan = scan;
    return scan;
  }

  /** One background scan: new snapshots when the registry moved, mirrors seeded or checked against it. */
  async #runScan(): Promise<void> {
    const started = this.#config.now();
    // Changes from here on are not (all) in this scan: they count towards the next one.
    this.#changesSinceScan = 0;
    const scan = await scanInWorker(
      {
        databasePath: this.#config.databasePath,
        confidential: this.#config.confidentialCategories,
        fpr: this.#config.filterFpr,
        minBits: this.#catalog.latest('filter')?.bits,
      },
      this.#scanAbort.signal,
    );
    if (this.#stopped) return;
    for (const feed of FEED_NAMES) {
      if (this.#catalog.latest(feed)?.version !== scan.version) {
        await this.#catalog.add(feed, await storedSnapshot(feed, scan, this.#snapshotSigning()));
      }
    }
    this.#lastScanAt = started;
    this.#awaitingRescan = false;
    const mirrors = this.#mirrors;
    if (!mirrors || scan.version > mirrors.version) this.#seed(scan);
    else if (scan.version === mirrors.version) await this.#check(mirrors, scan);
    this.#advance();
  }

  #seed(scan: FeedScan): void {
    const plain = (feed: 'dns' | 'url'): PlainState => {
      const state = PlainState.fromSnapshot(scan.snapshots[feed].payload);
      if (!state.ok) throw new Error(`scanned ${feed} snapshot does not load: ${state.error.message}`);
      return state.value;
    };
    this.#mirrors = {
      version: scan.version,
      committedAt: scan.committedAt,
      dns: plain('dns'),
      url: plain('url'),
      filter: FilterMirror.fromWideKeys(scan.filterWide),
    };
    this.#announceDns(null);
    this.#waiters.notify(scan.version);
  }

  /** A scan at the mirrors' version must agree with them; if not, the scan (the registry) wins. */
  async #check(mirrors: FeedMirrors, scan: FeedScan): Promise<void> {
    const { dns, url, filter } = scan.snapshots;
    const agree =
      (await mirrors.dns.checksum()) === dns.checksum &&
      (await mirrors.url.checksum()) === url.checksum &&
      (await mirrors.filter.summary(filter.bits as KeyWidths)).checksum === filter.checksum;
    if (agree || this.#mirrors !== mirrors) return;
    this.#config.onError(
      new MirrorDivergedError(`feed mirrors at version ${scan.version} differ from the registry`),
    );
    this.#seed(scan);
  }

  /** The delta `since` -> `mirrors.version`, from the cache or built once however many ask at once. */
  async #delta(
    mirrors: FeedMirrors,
    feed: FeedName,
    since: number,
    bits: KeyWidths | undefined,
  ): Promise<ServedArtifact> {
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
  ): Promise<ServedArtifact> {
    const reader = this.#reader;
    if (!reader) throw new Error('feed service is stopped');
    // The range ends at the mirrors' version, whatever the registry committed since.
    const changes = [...reader.netChanges(since, mirrors.version)];
    const confidential = this.#config.confidentialCategories;
    const signing = {
      key: this.#config.signingKey,
      ttlMs: this.#config.deltaTtlMs,
      checkpoint: this.#config.checkpoint,
    };
    return buildDelta({ feed, since, mirrors, changes, bits, confidential, createdAt }, signing);
  }

  #snapshotSigning(): Signing {
    return {
      key: this.#config.signingKey,
      ttlMs: this.#config.snapshotTtlMs,
      checkpoint: this.#config.checkpoint,
    };
  }
}
