/** The registry: orders, entries and the hash-chained change log on SQLite. `openRegistry` is the way in. */

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Change, FeedEntry } from '../core/types.ts';
import { verifyChain } from './change-log.ts';
import { type ChangePage, type ChangeQuery, listChanges, netChanges } from './change-queries.ts';
import { beginImport, createOrder, type ImportSession } from './create-order.ts';
import { listDistributors, recordReport } from './distributors.ts';
import { expireDue, extendOrder, nextExpiry, revokeEntry, revokeOrder } from './end-orders.ts';
import { DEFAULT_MIGRATIONS_DIR, MigrationError, migrate, readMigrations, schemaVersion } from './migrate.ts';
import { DEFAULT_PROTECTED_DOMAINS_FILE, ProtectedDomains } from './protected-domains.ts';
import {
  type ActiveEntryQuery,
  activeEntries,
  type EntryQuery,
  getEntry,
  getOrderWithEntries,
  listEntries,
  listOrders,
  matchExpressions,
  type OrderQuery,
  versionInfo,
} from './queries.ts';
import { failure, Store, success } from './store.ts';
import { authenticate, createToken, listTokens, revokeToken } from './tokens.ts';
import type {
  ChainReport,
  CreatedOrder,
  DistributorReport,
  DistributorStatus,
  Entry,
  Match,
  Order,
  OrderEntry,
  OrderInput,
  Page,
  Principal,
  RegistryResult,
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
  const db = new Database(path, options.readonly ? { readonly: true, fileMustExist: true } : {});
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
    return new Registry(new Store(db, options.now ?? (() => new Date()), loadProtected(options)), options);
  } catch (e) {
    db.close();
    throw e;
  }
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

  versionInfo(version: number): VersionInfo | null {
    return versionInfo(this.store, version);
  }

  /** See `createOrder` in create-order.ts: all targets land in one version, or none (`targets_rejected`). */
  createOrder(input: OrderInput, actor: string): RegistryResult<CreatedOrder> {
    return createOrder(this.store, input, actor);
  }

  /** Opens a bulk import of one order (see ImportSession): `add()` chunks, then `commit()` or `abort()`. */
  beginImport(input: Omit<OrderInput, 'targets'>, actor: string): RegistryResult<ImportSession> {
    return beginImport(this.store, input, actor);
  }

  revokeOrder(id: number, reason: string, actor: string): RegistryResult<WriteOutcome> {
    return revokeOrder(this.store, id, reason, actor);
  }

  /** Removes an entry (by id, expression or any target form of it) from every order holding it. */
  revokeEntry(
    idOrTarget: number | string,
    reason: string,
    actor: string,
  ): RegistryResult<WriteOutcome & { entry: Entry }> {
    return revokeEntry(this.store, idOrTarget, reason, actor);
  }

  /** New expiry for an active order (null: none). Makes a version with no entry changes. */
  extendOrder(
    id: number,
    expiresAt: string | Date | null,
    actor: string,
  ): RegistryResult<WriteOutcome & { order: Order }> {
    return extendOrder(this.store, id, expiresAt, actor);
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
   * All active entries sorted by expression, streamed (constant memory at 10M entries). Consume it without
   * writes through this registry in between (synchronously, or on a `readonly` registry); for the version it
   * belongs to, read `currentVersion()` and iterate inside one `inReadTransaction`.
   */
  activeEntries(query?: ActiveEntryQuery): IterableIterator<FeedEntry> {
    return activeEntries(this.store, query);
  }

  /** Runs `read` inside one read transaction: everything it reads is one consistent version of the registry. */
  inReadTransaction<T>(read: () => T): T {
    return this.store.db.transaction(read).deferred();
  }

  /** Recomputes the whole change-log hash chain, streaming; names the first bad seq. */
  verifyChain(): ChainReport {
    return verifyChain(this.store.db);
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

  /** Re-reads the protected-domain list; on an error the previous list stays in force. */
  reloadProtectedDomains(): RegistryResult<{ count: number }> {
    try {
      this.store.protectedDomains = loadProtected(this.options);
    } catch (e) {
      return failure('invalid_input', (e as Error).message);
    }
    return success({ count: this.store.protectedDomains.size });
  }

  close(): void {
    this.store.db.close();
  }
}
