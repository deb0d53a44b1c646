/** The registry: orders, entries and the hash-chained change log on SQLite. `openRegistry` is the way in. */

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Category, Change, FeedEntry } from '../core/types.ts';
import { DEFAULT_CONFIDENTIAL_CATEGORIES } from '../core/types.ts';
import { verifyChain } from './change-log.ts';
import {
  type ChangePage,
  type ChangeQuery,
  listChanges,
  netChanges,
  netChangesInSteps,
} from './change-queries.ts';
import { commitmentKeyPath, loadCommitmentKey } from './commitment-key.ts';
import {
  beginImport,
  createOrder,
  type DryRun,
  dryRunOrder,
  type ImportSession,
  type OrderOutcome,
  orderCrowdingDomains,
} from './create-order.ts';
import { approveOrder, rejectOrder } from './decide-order.ts';
import {
  type DistributorCompliance,
  distributorCompliance,
  type LagPoint,
  lagHistory,
  listDistributors,
  recordReport,
  splitViews,
} from './distributors.ts';
import { expireDue, extendOrder, nextExpiry, revokeEntry, revokeOrder } from './end-orders.ts';
import { countEntriesUnder, DEFAULT_FOUR_EYES, type EntriesUnder, type FourEyesPolicy } from './four-eyes.ts';
import { corruptionMessage, isCorruptionError, RegistryCorruptError } from './integrity.ts';
import type { LogSettings } from './log-leaves.ts';
import {
  backfillLog,
  type ConsistencyProof,
  type InclusionProof,
  type LogHead,
  logConsistencyProof,
  logHead,
  logInclusionProof,
  logLeaves,
  logTile,
} from './log-queries.ts';
import { DEFAULT_MIGRATIONS_DIR, MigrationError, migrate, readMigrations, schemaVersion } from './migrate.ts';
import { DEFAULT_TIME_ZONE, isTimeZone } from './order-input.ts';
import { ProbeRegistry } from './probe-registry.ts';
import { DEFAULT_PROTECTED_DOMAINS_FILE, ProtectedDomains } from './protected-domains.ts';
import {
  type ActiveEntryQuery,
  type ActiveEntryRow,
  activeEntries,
  activeEntryPages,
  type EntryQuery,
  entryHistories,
  getEntry,
  getOrderWithEntries,
  listEntries,
  listOrders,
  matchExpressions,
  type OrderQuery,
  searchEntries,
  versionInfo,
} from './queries.ts';
import { listReleased, type ReleasedQuery, unrelease } from './released.ts';
import { failure, Store, success } from './store.ts';
import { authenticate, createToken, listTokens, revokeToken } from './tokens.ts';
import { type TransparencyStats, transparencyStats } from './transparency-stats.ts';
import type {
  ChainReport,
  DistributorReport,
  DistributorStatus,
  Entry,
  EntryHistory,
  Match,
  Order,
  OrderEntry,
  OrderInput,
  Page,
  Principal,
  RegistryResult,
  ReleasedTarget,
  SplitView,
  TokenInfo,
  TokenRole,
  VersionInfo,
  WriteOutcome,
} from './types.ts';

export interface RegistryOptions {
  /** Open an existing, migrated database for reading only (e.g. a worker thread compiling feeds). */
  readonly?: boolean;
  /** Directory of `NNN_name.sql` migrations (default: the project's data/migrations). */
  migrationsDir?: string;
  /** The protected-domain list file (default data/protected-domains.txt); null for none. */
  protectedDomainsFile?: string | null;
  /** Protected names given directly; they replace the file. */
  protectedDomains?: readonly string[];
  /** The registry's clock (orders' creation times, expiry); default `() => new Date()`. */
  now?: () => Date;
  /** How long a write waits for another connection's write lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** SQLite page cache; larger makes bulk imports of unsorted names faster (default 64 MiB). */
  cacheSizeMiB?: number;
  /**
   * Largest size of the registry file in MiB: a write that would grow it further fails with `storage_full`
   * and writes nothing, as on a full disk (default: no limit but the disk's).
   */
  maxSizeMiB?: number;
  /** IANA zone a bare date (`2026-05-31`, the end of that day) is read in; default Asia/Ho_Chi_Minh. */
  timeZone?: string;
  /**
   * Four-eyes: orders crossing these thresholds wait for a second regulator (defaults in four-eyes.ts and
   * docs/DECISIONS.md). Absent: every order publishes at once (the hub always sets it).
   */
  fourEyes?: {
    maxTargets?: number;
    maxSubdomainEntries?: number;
    pendingTtlHours?: number;
    /** A popularity list (top sites), one name per line; null or absent for none. */
    popularDomainsFile?: string | null;
    /** Popular names given directly; they replace the file. */
    popularDomains?: readonly string[];
  };
  /** Categories whose targets the transparency log shows only as commitments (default csam). */
  confidentialCategories?: readonly Category[];
  /**
   * The commitment key of the transparency log (default: `keys/commitment.key` beside the database, created
   * on first use; a random one for `:memory:`).
   */
  commitmentKey?: Uint8Array;
}

function fourEyesPolicy(o: RegistryOptions['fourEyes']): FourEyesPolicy | null {
  if (o === undefined) return null;
  const popular =
    o.popularDomains !== undefined
      ? ProtectedDomains.of(o.popularDomains)
      : o.popularDomainsFile
        ? ProtectedDomains.fromFile(o.popularDomainsFile)
        : ProtectedDomains.of([]);
  return {
    maxTargets: o.maxTargets ?? DEFAULT_FOUR_EYES.maxTargets,
    maxSubdomainEntries: o.maxSubdomainEntries ?? DEFAULT_FOUR_EYES.maxSubdomainEntries,
    pendingTtlMs: (o.pendingTtlHours ?? DEFAULT_FOUR_EYES.pendingTtlHours) * 3_600_000,
    popular,
  };
}

/**
 * Opens (creating and migrating if needed) the registry at `path`, or `':memory:'`.
 *
 * Pragmas: WAL, so readers (feed compilers, other processes) never block the writer; synchronous=FULL, because
 * a version, once committed, is published to ISPs: with NORMAL a power cut could drop the last committed
 * versions and the hub would then publish different content under the same version numbers. Writes are few and
 * batched (one transaction per order or import), so one fsync per commit costs little. foreign_keys on (the
 * big tables carry no foreign keys: their writer keeps them consistent and the chain audits them), and a busy
 * timeout for the rare write that meets another process's import.
 */
export function openRegistry(path: string, options: RegistryOptions = {}): Registry {
  const memory = path === ':memory:';
  if (!memory && !options.readonly) mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path, options.readonly ? { readonly: true, fileMustExist: true } : {});
  } catch (e) {
    if (isCorruptionError(e))
      throw new RegistryCorruptError(corruptionMessage(path, 'open', [(e as Error).message]));
    throw e;
  }
  try {
    // Takes effect only when the file is new: 16 KiB pages make bulk inserts ~10% faster than 4 KiB.
    if (!options.readonly) db.pragma('page_size = 16384');
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    db.pragma(`cache_size = ${-1024 * (options.cacheSizeMiB ?? 64)}`);
    db.pragma('foreign_keys = ON');
    const migrations = readMigrations(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
    if (options.readonly) {
      const latest = migrations[migrations.length - 1]?.version ?? 0;
      const have = schemaVersion(db);
      if (have < latest)
        throw new MigrationError(`registry ${path} has schema ${have}, this code needs ${latest}`);
    } else {
      if (!memory) db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      migrate(db, migrations);
    }
    if (options.maxSizeMiB !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor((options.maxSizeMiB * 1024 * 1024) / pageSize))}`);
    }
    const timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
    if (!isTimeZone(timeZone)) throw new RangeError(`time zone '${timeZone}' is not an IANA time zone`);
    const store = new Store(
      db,
      options.now ?? (() => new Date()),
      loadProtected(options),
      timeZone,
      fourEyesPolicy(options.fourEyes),
      logSettings(path, options),
    );
    // A registry opened with older migrations only (tests of a migration) has no log to fill.
    const hasLog = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'log_heads'")
      .get();
    if (!options.readonly && hasLog) backfillLog(store);
    return new Registry(store, options);
  } catch (e) {
    db.close();
    if (isCorruptionError(e))
      throw new RegistryCorruptError(corruptionMessage(path, 'open', [(e as Error).message]));
    throw e;
  }
}

function logSettings(path: string, options: RegistryOptions): LogSettings {
  let key =
    options.commitmentKey ?? (path === ':memory:' ? crypto.getRandomValues(new Uint8Array(32)) : null);
  return {
    confidential: options.confidentialCategories ?? DEFAULT_CONFIDENTIAL_CATEGORIES,
    commitmentKey() {
      key ??= loadCommitmentKey(commitmentKeyPath(path), !options.readonly);
      return key;
    },
  };
}

function loadProtected(options: RegistryOptions): ProtectedDomains {
  if (options.protectedDomains !== undefined) return ProtectedDomains.of(options.protectedDomains);
  if (options.protectedDomainsFile === null) return ProtectedDomains.of([]);
  return ProtectedDomains.fromFile(options.protectedDomainsFile ?? DEFAULT_PROTECTED_DOMAINS_FILE);
}

/**
 * The registry API. Writes return `RegistryResult` (expected failures are values with a stable `code`) and each
 * makes exactly one new version in one transaction. All methods are synchronous (better-sqlite3).
 */
export class Registry {
  /** Use `openRegistry`. */
  constructor(
    private readonly store: Store,
    private readonly options: RegistryOptions,
  ) {}

  /** The current registry version (0 before the first write). */
  currentVersion(): number {
    return this.store.currentVersion();
  }

  /** How many entries the registry ever created: a bound on the active ones, read from an index. */
  entriesCreated(): number {
    return this.store.nextEntryId() - 1;
  }

  versionInfo(version: number): VersionInfo | null {
    return versionInfo(this.store, version);
  }

  /**
   * See `createOrder` in create-order.ts: all targets land in one version, or none (`targets_rejected`); an
   * order crossing a four-eyes threshold is stored `pending` instead, with no version.
   */
  createOrder(input: OrderInput, actor: string, counted?: EntriesUnder): RegistryResult<OrderOutcome> {
    return createOrder(this.store, input, actor, counted);
  }

  /** The registrable domains whose entries four-eyes counts for this order (see orderCrowdingDomains). */
  orderCrowdingDomains(input: OrderInput): string[] {
    return orderCrowdingDomains(this.store, input);
  }

  /** Active domain entries on or below each of `domains` (see countEntriesUnder in four-eyes.ts). */
  countEntriesUnder(domains: readonly string[]): [string, number][] {
    return [...countEntriesUnder(this.store, new Set(domains))];
  }

  /** What `createOrder` would do (per-target results, approval), writing nothing. */
  dryRunOrder(input: OrderInput, counted?: EntriesUnder): RegistryResult<DryRun> {
    return dryRunOrder(this.store, input, counted);
  }

  /** A second regulator publishes a pending order as one version (`self_approval` for its creator). */
  approveOrder(id: number, reason: string, actor: string): RegistryResult<OrderOutcome> {
    return approveOrder(this.store, id, reason, actor);
  }

  /** A second regulator rejects a pending order. */
  rejectOrder(id: number, reason: string, actor: string): RegistryResult<WriteOutcome & { order: Order }> {
    return rejectOrder(this.store, id, reason, actor);
  }

  /** Opens a bulk import of one order (see ImportSession): `add()` chunks, then `commit()` or `abort()`. */
  beginImport(input: Omit<OrderInput, 'targets'>, actor: string): RegistryResult<ImportSession> {
    return beginImport(this.store, input, actor);
  }

  /** Ends an active order; `release` (a false positive) puts the entries it removes on the released list. */
  revokeOrder(
    id: number,
    reason: string,
    actor: string,
    options: { release?: boolean } = {},
  ): RegistryResult<WriteOutcome> {
    return revokeOrder(this.store, id, reason, actor, options);
  }

  /**
   * Removes an entry (by id, expression or any target form of it) from every order holding it; `release` puts
   * it on the released list.
   */
  revokeEntry(
    idOrTarget: number | string,
    reason: string,
    actor: string,
    options: { release?: boolean } = {},
  ): RegistryResult<WriteOutcome & { entry: Entry }> {
    return revokeEntry(this.store, idOrTarget, reason, actor, options);
  }

  /** New expiry for an active order (null: none). Makes a version with an `extend` row and no entry changes. */
  extendOrder(
    id: number,
    expiresAt: string | Date | null,
    actor: string,
    reason = '',
  ): RegistryResult<WriteOutcome & { order: Order }> {
    return extendOrder(this.store, id, expiresAt, actor, reason);
  }

  /** The released list (targets revoked as false positives), sorted by expression. */
  listReleased(query?: ReleasedQuery): RegistryResult<Page<ReleasedTarget>> {
    return listReleased(this.store, query);
  }

  /** Takes a target off the released list, recorded in the chain. */
  unrelease(
    target: string,
    reason: string,
    actor: string,
  ): RegistryResult<WriteOutcome & { released: ReleasedTarget }> {
    return unrelease(this.store, target, reason, actor);
  }

  /** For each expression the registry knows: its entry, every order that ever held it, its release. */
  entryHistories(expressions: readonly string[]): EntryHistory[] {
    return entryHistories(this.store, expressions);
  }

  /** Expires the orders due at `now` in one version; null when none is due. Call it when `nextExpiry()` passes. */
  expireDue(now?: Date): (WriteOutcome & { orders: number[] }) | null {
    return expireDue(this.store, now);
  }

  /** When the earliest active order expires (null: none does), so a timer can sleep until then. */
  nextExpiry(): Date | null {
    return nextExpiry(this.store);
  }

  /** One order with a page of its entries (`not_found`, `bad_cursor`). */
  getOrder(
    id: number,
    page?: { cursor?: string; limit?: number },
  ): RegistryResult<{ order: Order; entries: Page<OrderEntry> }> {
    return getOrderWithEntries(this.store, id, page);
  }

  /** Orders, newest first, filtered; keyset pages (`bad_cursor` for a cursor not from this listing). */
  listOrders(query?: OrderQuery): RegistryResult<Page<Order>> {
    return listOrders(this.store, query);
  }

  /** Entries sorted by expression (or by insertion within one order), filtered; keyset pages. */
  listEntries(query?: EntryQuery): RegistryResult<Page<Entry>> {
    return listEntries(this.store, query);
  }

  /**
   * `listEntries` for the hub's event loop: a search the index does not bound reads in steps, awaiting `turn`
   * between them (see queries.ts).
   */
  searchEntries(
    query: EntryQuery,
    turn: () => Promise<void> = () => new Promise((resolve) => setImmediate(resolve)),
  ): Promise<RegistryResult<Page<Entry>>> {
    return searchEntries(this.store, query, turn);
  }

  /** An entry by id or exact expression. */
  getEntry(idOrExpression: number | string): Entry | null {
    return getEntry(this.store, idOrExpression);
  }

  /**
   * The active entries among lookup expressions (from `lookupExpressions`), with their active orders. For
   * /check: pass all expressions of a batch of URLs at once.
   */
  matchExpressions(expressions: readonly string[]): Match[] {
    return matchExpressions(this.store, expressions);
  }

  /** Change-log rows by seq (optionally one version's). */
  listChanges(query?: ChangeQuery): RegistryResult<ChangePage> {
    return listChanges(this.store, query);
  }

  /**
   * Net changes between two versions, sorted by expression; throws VersionRangeError unless
   * 0 <= from <= to <= current. A streamed iterator: see `activeEntries` on consuming it.
   */
  netChanges(from: number, to: number): IterableIterator<Change> {
    return netChanges(this.store, from, to);
  }

  /**
   * `netChanges(from, to)` as one list, read in steps of at most `pageRows` change-log rows: run the generator
   * a step per turn of the event loop and a large version never holds it (see change-queries.ts).
   */
  netChangesInSteps(from: number, to: number, pageRows?: number): Generator<void, Change[]> {
    return netChangesInSteps(this.store, from, to, pageRows);
  }

  /**
   * All active entries sorted by expression, streamed (constant memory at 10M entries). Consume it without
   * writes through this registry in between (synchronously, or on a `readonly` registry); for the version it
   * belongs to, read `currentVersion()` and iterate inside one `inReadTransaction`.
   */
  activeEntries(query?: ActiveEntryQuery): IterableIterator<FeedEntry> {
    return activeEntries(this.store, query);
  }

  /** All active entries as raw rows in pages, sorted by expression: for full scans, inside `inReadTransaction`. */
  activeEntryPages(pageSize?: number): IterableIterator<ActiveEntryRow[]> {
    return activeEntryPages(this.store, pageSize);
  }

  /** Runs `read` inside one read transaction: everything it reads is one consistent version of the registry. */
  inReadTransaction<T>(read: () => T): T {
    return this.store.db.transaction(read).deferred();
  }

  /** Recomputes the whole change-log hash chain, streaming; names the first bad seq. */
  verifyChain(): ChainReport {
    return verifyChain(this.store.db);
  }

  /** The transparency log's tree after `version` (default: the latest); null before the first write. */
  logHead(version?: number): LogHead | null {
    return logHead(this.store, version);
  }

  /** Leaf bytes `start` .. `start + count - 1` of the transparency log (fewer at its end). */
  logLeaves(start: number, count: number): Uint8Array[] {
    return logLeaves(this.store, start, count);
  }

  /** Inclusion proof of leaf `leafIndex` in the tree of `version` (`not_found`, `invalid_input`). */
  logInclusionProof(version: number, leafIndex: number): RegistryResult<InclusionProof> {
    return logInclusionProof(this.store, version, leafIndex);
  }

  /** Consistency proof between the trees of two versions (`not_found`, `invalid_input`). */
  logConsistencyProof(from: number, to: number): RegistryResult<ConsistencyProof> {
    return logConsistencyProof(this.store, from, to);
  }

  /** A stored tile of the log (C2SP tlog-tiles: level, index), with every hash it holds now. */
  logTile(level: number, idx: number): Uint8Array | null {
    return logTile(this.store, level, idx);
  }

  /** The public summary: orders and entries per month, recent orders of non-confidential categories. */
  transparencyStats(): TransparencyStats {
    return transparencyStats(this.store, this.store.log.confidential);
  }

  /** Categories whose targets the log shows only as commitments. */
  confidentialCategories(): readonly Category[] {
    return this.store.log.confidential;
  }

  /** The key of the log's target commitments (for ISPs and auditors, who can then check them). */
  commitmentKey(): Uint8Array {
    return this.store.log.commitmentKey();
  }

  /** A new API token; its text is returned once and only its hash is kept. */
  createToken(role: TokenRole, name: string, token?: string): RegistryResult<{ id: number; token: string }> {
    return createToken(this.store, role, name, token);
  }

  listTokens(): TokenInfo[] {
    return listTokens(this.store);
  }

  revokeToken(id: number): RegistryResult<TokenInfo> {
    return revokeToken(this.store, id);
  }

  /** The principal of a live token, or null (unknown, malformed or revoked). */
  authenticate(token: string): Principal | null {
    return authenticate(this.store, token);
  }

  /** Records a distributor's applied-version report (latest per token and feed). */
  recordReport(tokenId: number, report: DistributorReport): RegistryResult<DistributorStatus> {
    return recordReport(this.store, tokenId, report);
  }

  /** The compliance view: every distributor's latest report per feed. */
  listDistributors(filter?: { tokenId?: number; agentId?: string; feed?: string }): DistributorStatus[] {
    return listDistributors(this.store, filter);
  }

  /** The versions for which the distributors' reported checkpoints disagree (see distributors.ts). */
  splitViews(distributors: readonly DistributorStatus[]): SplitView[] {
    return splitViews(this.store, distributors);
  }

  /** Every agent's latest report with its lag in versions and seconds now. */
  distributorCompliance(): DistributorCompliance[] {
    return distributorCompliance(this.store);
  }

  /** The lag each report had when it arrived, since `since` (ISO time), oldest first. */
  lagHistory(since: string): LagPoint[] {
    return lagHistory(this.store, since);
  }

  /** Re-reads the protected-domain list; on an error the previous list stays in force. */
  reloadProtectedDomains(): RegistryResult<{ count: number }> {
    try {
      this.store.protectedDomains = loadProtected(this.options);
    } catch (e) {
      return failure('invalid_input', (e as Error).message);
    }
    return success({ count: this.store.protectedDomains.size });
  }

  /**
   * Records that an integrity check found the file damaged: from now on every write is refused with
   * `registry_corrupt` (reads keep working, so auditors can still look). There is no way back but a restore.
   */
  markCorrupt(problem: string): void {
    this.store.corruption ??= problem;
  }

  /** The integrity problem `markCorrupt` recorded, or null. */
  corruption(): string | null {
    return this.store.corruption;
  }

  close(): void {
    this.store.db.close();
  }

  #probes: ProbeRegistry | undefined;

  /** Compliance probes: pinned keys, sampling plans, signed results, per-ISP compliance. */
  get probes(): ProbeRegistry {
    this.#probes ??= new ProbeRegistry(this.store);
    return this.#probes;
  }
}
