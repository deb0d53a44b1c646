/**
 * The state machine behind the feeds: keeps the in-memory mirrors of every feed at the registry's latest
 * committed version. A commit (or the poll, for writes of other processes) advances them by the version's
 * net changes; a gap too large or a mismatch holds them until a background scan reseeds them; scans also
 * store new snapshots after enough changes or time. Serving lives in FeedService.
 */
import { rm } from 'node:fs/promises';
import type { PerClass } from '../core/confirm.ts';
import type { PlainState } from '../core/plain-state.ts';
import type { Change } from '../core/types.ts';
import { openRegistry, type Registry } from '../registry/registry.ts';
import type { Signing } from './artifact-builders.ts';
import { FEED_NAMES } from './feed-definitions.ts';
import { advanceMirrorsInSteps, type FeedMirrors, plainChanges } from './feed-mirrors.ts';
import { type FeedScan, scanInWorker } from './feed-scan.ts';
import type { FeedServiceConfig } from './feed-service-options.ts';
import { MirrorDivergedError } from './filter-mirror.ts';
import { decodeWideKeys, seedFromStore, storeWideKeys } from './mirror-seed.ts';
import { type SnapshotCatalog, snapshotKey } from './snapshot-catalog.ts';
import { VersionWaiters } from './version-waiters.ts';

/**
 * The change counts that trigger a rebuild and a rescan grow with the list (docs/DECISIONS.md). A rebuild
 * reads every entry, so one per 1 % of the entries keeps its cost per change the same at 1M and at 10M, and
 * stays under the 1/64 insert room of a filter snapshot, so consumers one snapshot behind follow by deltas.
 * A gap over 2 % (a mass revoke) is closed by a rescan rather than applied change by change.
 */
const SNAPSHOT_SHARE = 0.01;
const INCREMENTAL_SHARE = 0.02;

/** `floor`, or `share` of the active expressions (the filter feed holds them all) when that is more. */
function scaledLimit(floor: number, share: number, mirrors: FeedMirrors): number {
  return Math.max(floor, Math.floor(mirrors.filter.expressionCount * share));
}

export type DnsListener = (version: number, state: PlainState, changes: readonly Change[] | null) => void;

/** How stored snapshots are signed. */
export function snapshotSigning(config: FeedServiceConfig): Signing {
  return { key: config.signingKey, ttlMs: config.snapshotTtlMs, checkpoint: config.checkpoint };
}

export class FeedFollower {
  readonly #dnsListeners = new Set<DnsListener>();
  readonly #config: FeedServiceConfig;
  readonly #catalog: SnapshotCatalog;
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
  #advancing: Promise<void> | null = null;
  #advanceAgain = false;
  #awaitingRescan = false;
  #stopped = false;

  constructor(config: FeedServiceConfig, catalog: SnapshotCatalog) {
    this.#config = config;
    this.#catalog = catalog;
  }

  /** The mirrors at the latest visible version; null before the first scan. */
  get mirrors(): FeedMirrors | null {
    return this.#mirrors;
  }

  /** The read-only registry connection; null before start and after stop. */
  get reader(): Registry | null {
    return this.#reader;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Loads the retained snapshots and seeds the mirrors from the latest ones (checked in a worker), or,
   * when they cannot be used, scans the registry once (in a worker) and stores new snapshots; then
   * follows the registry from there. Rejects when that first scan fails.
   */
  async start(): Promise<void> {
    const reader = openRegistry(this.#config.databasePath, { readonly: true, protectedDomainsFile: null });
    this.#reader = reader;
    try {
      await this.#catalog.load(FEED_NAMES, reader.currentVersion());
      if (!(await this.#resume())) await this.#runScan();
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
      void this.#advanceReporting();
    });
  }

  /**
   * Resolves with the visible version once it passes `after`, or when `timeoutMs` elapse, `signal` aborts
   * or the service stops (then with whatever is visible).
   */
  async waitForVersion(after: number, timeoutMs: number, signal?: AbortSignal): Promise<number | null> {
    const visible = this.#mirrors?.version ?? -1;
    if (visible <= after && !this.#stopped) await this.#waiters.wait(after, timeoutMs, signal);
    return this.#mirrors?.version ?? null;
  }

  /** Builds snapshots of the current version now (after a build in progress); failures go to onError. */
  rebuildSnapshots(): Promise<void> {
    return this.#requestScan();
  }

  /** An advance nobody awaits: a failure other than a divergence goes to onError. */
  #advanceReporting(): Promise<void> {
    return this.advance().catch((error: Error) => this.#config.onError(error));
  }

  /** The poll: versions committed elsewhere, and snapshots due by time. */
  #tick(): void {
    void this.#advanceReporting();
    const mirrors = this.#mirrors;
    if (this.#scan || !mirrors) return;
    const changed = mirrors.version > (this.#catalog.latest('filter')?.version ?? -1);
    if (changed && this.#config.now() - this.#lastScanAt >= this.#config.snapshotAfterMs)
      void this.#requestScan();
  }

  /**
   * Moves the mirrors to the registry's current version and answers long-polls; resolves once they got
   * there (or the follower had to wait for a rescan, or stopped). The feed-side work of a large version
   * runs in bounded steps between which the event loop turns; the new version becomes visible at once,
   * when all of it is done. Calls made meanwhile share the advance in progress, which goes on to the
   * versions committed while it ran.
   */
  advance(): Promise<void> {
    if (this.#advancing) {
      this.#advanceAgain = true;
      return this.#advancing;
    }
    const advancing = this.#advanceLoop().finally(() => {
      this.#advancing = null;
    });
    this.#advancing = advancing;
    return advancing;
  }

  async #advanceLoop(): Promise<void> {
    do {
      this.#advanceAgain = false;
      await this.#advanceOnce();
    } while (this.#advanceAgain);
  }

  async #advanceOnce(): Promise<void> {
    // One turn of the loop first: the request that committed the version answers before its feed work.
    await nextTurn();
    const reader = this.#reader;
    const mirrors = this.#mirrors;
    if (!reader || !mirrors || this.#stopped || this.#awaitingRescan) return;
    const target = reader.currentVersion();
    if (target <= mirrors.version) return;
    if (this.#grossChanges(mirrors.version, target) > this.#incrementalLimit()) {
      this.#rescan();
      return;
    }
    // The version's net changes, a page of the log per turn: a large version never holds the loop.
    const read = await this.#inTurns(reader.netChangesInSteps(mirrors.version, target), mirrors);
    if (!read) return;
    const changes = read.value;
    const info = reader.versionInfo(target);
    const committedAt = info ? Date.parse(info.createdAt) : mirrors.committedAt;
    const steps = advanceMirrorsInSteps(
      mirrors,
      target,
      committedAt,
      changes,
      this.#config.confidentialCategories,
    );
    let next: FeedMirrors;
    try {
      const advanced = await this.#inTurns(steps, mirrors);
      if (!advanced) return;
      next = advanced.value;
    } catch (error) {
      if (!(error instanceof MirrorDivergedError)) throw error;
      this.#config.onError(error);
      this.#rescan();
      return;
    }
    this.#mirrors = next;
    this.#changesSinceScan += changes.length;
    if (this.#dnsListeners.size > 0) {
      this.#announceDns(plainChanges('dns', changes, this.#config.confidentialCategories));
    }
    this.#waiters.notify(target);
    // During a scan this queues the next one: the running scan began before these changes.
    if (this.#changesSinceScan >= scaledLimit(this.#config.snapshotAfterChanges, SNAPSHOT_SHARE, next))
      void this.#requestScan();
    // Versions committed while this one was applied follow at once, from the mirrors just made visible.
    this.#advanceAgain ||= reader.currentVersion() > target;
  }

  /**
   * Runs `steps` one per turn of the event loop; null when a scan reseeded the mirrors meanwhile (this advance
   * started from a stale base: it goes again from the new one) or the follower stopped.
   */
  async #inTurns<T>(steps: Generator<void, T>, base: FeedMirrors): Promise<{ value: T } | null> {
    for (;;) {
      await nextTurn();
      if (this.#stopped || this.#mirrors !== base) {
        this.#advanceAgain = !this.#stopped;
        return null;
      }
      const step = steps.next();
      if (step.done) return { value: step.value };
    }
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

  #incrementalLimit(): number {
    const mirrors = this.#mirrors;
    return mirrors ? scaledLimit(this.#config.maxIncrementalChanges, INCREMENTAL_SHARE, mirrors) : 0;
  }

  /** Change-log rows of versions (from, to], counted only up to the incremental limit. */
  #grossChanges(from: number, to: number): number {
    let rows = 0;
    const limit = this.#incrementalLimit();
    for (let v = from + 1; v <= to && rows <= limit; v++) {
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

  /** Seeds the mirrors from the stored snapshots (fast start); false when a scan must do it. */
  async #resume(): Promise<boolean> {
    const seeded = await seedFromStore(this.#catalog, this.#config.store);
    if ('reason' in seeded) return false;
    this.#lastScanAt = this.#config.now();
    this.#mirrors = seeded.mirrors;
    this.#announceDns(null);
    this.#waiters.notify(seeded.mirrors.version);
    // The change-log tail after the stored version, followed like any commit (or rescanned when large).
    await this.advance();
    return true;
  }

  /**
   * One background scan: new snapshots stored when the registry moved, then the mirrors checked against
   * it, or seeded from those snapshots when there are none, they were held for a rescan or they disagree.
   */
  async #runScan(): Promise<void> {
    const started = this.#config.now();
    // Changes from here on are not (all) in this scan: they count towards the next one.
    this.#changesSinceScan = 0;
    const scan = await this.#scanAndStore();
    if (!scan) return;
    this.#lastScanAt = started;
    const mirrors = this.#mirrors;
    if (!mirrors || (this.#awaitingRescan && scan.version >= mirrors.version)) {
      await this.#reseed(scan.version);
    } else if (!this.#awaitingRescan) {
      // Mirrors behind the scan (a commit it saw, not yet applied) follow the log up to it first.
      if (mirrors.version < scan.version) await this.advance();
      const current = this.#mirrors as FeedMirrors;
      if (current.version === scan.version && !this.#awaitingRescan) await this.#check(current, scan);
    }
    await this.advance();
  }

  /**
   * Scans the registry in a worker into files staged in the store, moves the snapshots the catalog lacks
   * into it and stores the filter mirror's keys; null when the follower stopped meanwhile. The staging
   * directory goes whatever happens, with anything a failed or aborted scan left in it.
   */
  async #scanAndStore(): Promise<FeedScan | null> {
    const store = this.#config.store;
    const staging = await store.staging();
    try {
      const scan = await scanInWorker(
        {
          databasePath: this.#config.databasePath,
          confidential: this.#config.confidentialCategories,
          fpr: this.#config.filterFpr,
          minBits: this.#catalog.latest('filter')?.bits,
          signing: { key: this.#config.signingKey, ttlMs: this.#config.snapshotTtlMs },
          ...(this.#config.logOrigin !== undefined && { logOrigin: this.#config.logOrigin }),
          staging,
        },
        this.#scanAbort.signal,
      );
      if (this.#stopped) return null;
      for (const feed of FEED_NAMES) {
        if (this.#catalog.latest(feed)?.version === scan.version) continue;
        await store.putFile(snapshotKey(feed, scan.version), scan.snapshots[feed].file);
        await this.#catalog.addStored(feed, scan.version);
      }
      await storeWideKeys(store, scan.version, scan.wideKeysFile);
      return scan;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /**
   * New mirrors from the stored snapshots of `version` (checked and indexed in workers); advances wait
   * meanwhile. Throws when they cannot be used: the mirrors stay as they were.
   */
  async #reseed(version: number): Promise<void> {
    this.#awaitingRescan = true;
    const seeded = await seedFromStore(this.#catalog, this.#config.store);
    if ('reason' in seeded)
      throw new Error(`feed mirrors not seeded from the snapshots of version ${version}: ${seeded.reason}`);
    if (this.#stopped) return;
    this.#awaitingRescan = false;
    this.#mirrors = seeded.mirrors;
    this.#announceDns(null);
    this.#waiters.notify(seeded.mirrors.version);
  }

  /**
   * A scan at the mirrors' version must agree with them: then they stay as they are (no second copy of any
   * state is made); if not, the scan (the registry) wins and the mirrors are seeded from its snapshots.
   */
  async #check(mirrors: FeedMirrors, scan: FeedScan): Promise<void> {
    const { dns, url } = scan.snapshots;
    const wide = decodeWideKeys(scan.wideKeysFile) as PerClass<Float64Array>;
    // The filter mirror is its wide keys: comparing them with the scan's is a linear pass, where its
    // checksum would narrow, encode and hash every key on the event loop.
    const agree =
      (await mirrors.dns.checksum()) === dns.checksum &&
      (await mirrors.url.checksum()) === url.checksum &&
      sameKeys(mirrors.filter.wide.root, wide.root) &&
      sameKeys(mirrors.filter.wide.path, wide.path);
    if (agree || this.#mirrors !== mirrors) return;
    this.#config.onError(
      new MirrorDivergedError(`feed mirrors at version ${scan.version} differ from the registry`),
    );
    await this.#reseed(scan.version);
  }
}

/** Resolves on the next turn of the event loop, after pending I/O (requests) had theirs. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `netChanges(from, to)` as one list, read a page of the change log per turn of the event loop. */
export async function netChangesInTurns(reader: Registry, from: number, to: number): Promise<Change[]> {
  const steps = reader.netChangesInSteps(from, to);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await nextTurn();
  }
}

function sameKeys(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
