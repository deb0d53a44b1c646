/** The state every registry module shares: the connection, the clock, the protected list, version bookkeeping. */

import type Database from 'better-sqlite3';
import type { OrderEvent } from '../core/log-leaf.ts';
import { GENESIS_HASH } from './change-encoding.ts';
import type { ChangeAppender } from './change-log.ts';
import type { FourEyesPolicy } from './four-eyes.ts';
import { LoggedChangeAppender, type LogSettings, VersionLeaves } from './log-leaves.ts';
import type { ProtectedDomains } from './protected-domains.ts';
import type { RegistryError, RegistryErrorCode, RegistryResult, TargetResult, VersionKind } from './types.ts';

export const failure = <T = never>(
  code: RegistryErrorCode,
  message: string,
  details?: TargetResult[],
): RegistryResult<T> => ({ ok: false, error: details ? { code, message, details } : { code, message } });

export const success = <T>(value: T): RegistryResult<T> => ({ ok: true, value });

const sqliteCode = (e: unknown): unknown => (e as { code?: unknown } | null)?.code;

/** True for SQLite's "database is locked" error (another connection holds the write lock). */
const isBusy = (e: unknown): boolean => sqliteCode(e) === 'SQLITE_BUSY';

/** True when SQLite could not grow the file: the disk, or the `max_page_count` limit, is full. */
const isFull = (e: unknown): boolean => sqliteCode(e) === 'SQLITE_FULL';

/** The failure of a write that found the storage full (the transaction was rolled back). */
const storageFull = <T = never>(): RegistryResult<T> =>
  failure('storage_full', 'the registry storage is full; nothing was written');

/**
 * Runs `run`, answering `import_in_progress` when another process kept the write lock past the busy timeout
 * (in practice a bulk import), and `storage_full` when the file could not grow (the write was rolled back).
 */
export function busyAsFailure<T>(run: () => RegistryResult<T>): RegistryResult<T> {
  try {
    return run();
  } catch (e) {
    if (isBusy(e))
      return failure(
        'import_in_progress',
        'another process is writing to the registry (an import?); retry later',
      );
    if (isFull(e)) return storageFull();
    throw e;
  }
}

export class Store {
  private readonly statements = new Map<string, Database.Statement>();
  /** True while an import session holds the connection's transaction. */
  importOpen = false;
  /** Set when an integrity check failed: every write is refused from then on (the file needs a restore). */
  corruption: string | null = null;
  /** The transparency-log leaves of the version being written (between beginVersion and finishVersion). */
  private leaves: VersionLeaves | null = null;

  constructor(
    readonly db: Database.Database,
    readonly now: () => Date,
    public protectedDomains: ProtectedDomains,
    /** The zone bare dates (`YYYY-MM-DD`) are read in. */
    readonly timeZone: string,
    /** Which orders wait for a second regulator (null: none do). */
    public fourEyes: FourEyesPolicy | null,
    readonly log: LogSettings,
  ) {}

  /** A prepared statement, prepared once per SQL text. */
  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  nowIso(): string {
    return this.now().toISOString();
  }

  currentVersion(): number {
    return (this.stmt('SELECT max(version) FROM versions').pluck().get() as number | null) ?? 0;
  }

  /** Refuses a write after a failed integrity check, or while an import owns the connection's transaction (it would become part of the import). */
  writeBlocked(): RegistryError | null {
    if (this.corruption !== null)
      return {
        code: 'registry_corrupt',
        message: `the registry failed its integrity check (${this.corruption}); writes are stopped until it is restored from a backup`,
      };
    return this.importOpen
      ? {
          code: 'import_in_progress',
          message: 'an import is in progress on this registry; retry when it ends',
        }
      : null;
  }

  /**
   * Runs `write` in one immediate write transaction (its checks and its writes see the same state). Returns
   * `import_in_progress` while an import holds this registry or when another process kept the write lock past
   * the busy timeout. A failure returned by `write` must come before it writes anything.
   */
  write<T>(write: () => RegistryResult<T>): RegistryResult<T> {
    const blocked = this.writeBlocked();
    if (blocked) return { ok: false, error: blocked };
    return busyAsFailure(() => this.db.transaction(write).immediate());
  }

  /**
   * Runs a best-effort write that must never wait: if another connection holds the write lock (a bulk import
   * in another process), an import is open here, or the storage is full, it is skipped and false is returned.
   * It runs on the request path, so it commits without an fsync (`synchronous = NORMAL`; WAL keeps the file
   * consistent, a power cut may lose it until the next write that syncs) and without checkpointing the WAL into
   * the file (the next ordinary commit does; after a bulk import that was tens of ms on the loop).
   */
  tryWrite(write: () => void): boolean {
    if (this.importOpen || this.corruption !== null || this.db.inTransaction) return false;
    const settings = ['busy_timeout', 'synchronous', 'wal_autocheckpoint'].map(
      (name) => [name, this.db.pragma(name, { simple: true })] as const,
    );
    this.db.pragma('busy_timeout = 0');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('wal_autocheckpoint = 0');
    try {
      write();
      return true;
    } catch (e) {
      // Best effort: a held lock or a full disk skips it (the write that matters reports either).
      if (isBusy(e) || isFull(e)) return false;
      throw e;
    } finally {
      for (const [name, value] of settings) this.db.pragma(`${name} = ${value}`);
    }
  }

  /** Inside a write transaction: allocates the next version; `finishVersion` completes its row. */
  beginVersion(kind: VersionKind, actor: string, summary: string): number {
    const version = this.currentVersion() + 1;
    const head = this.stmt('SELECT hash FROM changes ORDER BY seq DESC LIMIT 1').pluck().get() as
      | Buffer
      | undefined;
    this.stmt(
      'INSERT INTO versions (version, created_at, kind, actor, summary, head_hash) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(version, this.nowIso(), kind, actor, summary, head ?? Buffer.from(GENESIS_HASH, 'hex'));
    this.leaves = new VersionLeaves(this.db, version, this.log);
    return version;
  }

  /** The change-log appender of the version being written: it also writes each row's log leaf. */
  changeAppender(version: number, actor: string): ChangeAppender {
    return new LoggedChangeAppender(this.db, version, actor, this.openLeaves(version));
  }

  /** Logs an order event of the version being written (after the write's own update of the order). */
  logOrderEvent(version: number, event: OrderEvent, orderId: number, detail = ''): void {
    this.openLeaves(version).orderEvent(event, orderId, detail);
  }

  private openLeaves(version: number): VersionLeaves {
    if (this.leaves?.version !== version) throw new Error(`version ${version} is not being written`);
    return this.leaves;
  }

  finishVersion(version: number, changes: ChangeAppender): void {
    changes.flush();
    this.openLeaves(version).finish();
    this.leaves = null;
    this.stmt(
      'UPDATE versions SET adds = ?, removes = ?, first_seq = ?, last_seq = ?, head_hash = ? WHERE version = ?',
    ).run(
      changes.adds,
      changes.removes,
      changes.firstSeq,
      changes.lastSeq,
      Buffer.from(changes.head, 'hex'),
      version,
    );
  }

  /** The next free entry id (a writer reads it inside its write transaction). */
  nextEntryId(): number {
    return ((this.stmt('SELECT max(id) FROM entries').pluck().get() as number | null) ?? 0) + 1;
  }
}
