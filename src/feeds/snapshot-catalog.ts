/**
 * The retained snapshots of every feed, kept in an artifact store as
 * `snapshots/<feed>/<version, 16 digits>.tkd`. The oldest retained snapshot is the delta horizon: a
 * consumer at or after its version gets one delta to the latest, an older one resyncs.
 */
import { decodeArtifact, type Manifest, payloadOffsetOf } from '../core/artifact.ts';
import type { KeyWidths } from '../core/confirm.ts';
import { filterSnapshotWidths } from '../core/filter-payload.ts';
import type { FeedName } from '../core/types.ts';
import type { ArtifactStore } from './artifact-store.ts';

/** One retained snapshot. */
export interface SnapshotRecord {
  version: number;
  /** `filter` only: the key widths of its key sets. */
  bits?: KeyWidths;
}

/**
 * The latest snapshot of a feed as stored (dated at its commit): its record, manifest and head (its bytes
 * up to the payload). The payload stays in the store, read as it is served (see served-artifact.ts).
 */
export interface StoredSnapshot extends SnapshotRecord {
  manifest: Manifest;
  head: Uint8Array;
}

const KEY = /^snapshots\/([a-z0-9-]+)\/(\d{16})\.tkd$/;
/** Enough of an artifact for its manifest (checkpoint up to 64 KiB) and a filter payload's header. */
const HEAD_BYTES = 1 << 17;

const versionDigits = (version: number) => String(version).padStart(16, '0');

export const snapshotKey = (feed: FeedName, version: number): string =>
  `snapshots/${feed}/${versionDigits(version)}.tkd`;

/** Where the gzip of a snapshot's payload is kept once a client asked for it (removed with the snapshot). */
export const snapshotGzipKey = (feed: FeedName, version: number, payloadSha256: string): string =>
  `snapshots/${feed}/${versionDigits(version)}.${payloadSha256.slice(0, 16)}.gz`;

/** The key widths of a filter snapshot artifact, from its payload's header. */
const filterBits = (head: Uint8Array): KeyWidths | undefined =>
  filterSnapshotWidths(head.subarray(payloadOffsetOf(head)));

/**
 * Holds records and manifests only: at 10M entries a plain snapshot is hundreds of MB, which the store
 * keeps and serves from.
 */
export class SnapshotCatalog {
  readonly #records = new Map<FeedName, SnapshotRecord[]>();
  readonly #latest = new Map<FeedName, StoredSnapshot>();

  readonly #keep: number;

  /** `keep`: snapshots retained per feed (at least one). */
  constructor(
    private readonly store: ArtifactStore,
    keep: number,
  ) {
    this.#keep = Math.max(1, keep);
  }

  /**
   * Reads what the store holds for `feeds`. Snapshots above `currentVersion` (a store left over from
   * another registry), that do not decode, whose file is not as long as its manifest says, or filter
   * snapshots of another payload format (no key widths to read) are deleted: serving them would mislead
   * every consumer. Only their heads are read.
   */
  async load(feeds: readonly FeedName[], currentVersion: number): Promise<void> {
    for (const feed of feeds) {
      const found: { key: string; version: number }[] = [];
      for (const key of await this.store.list(`snapshots/${feed}/`)) {
        const version = Number(KEY.exec(key)?.[2] ?? Number.NaN);
        if (!Number.isSafeInteger(version)) continue;
        if (version > currentVersion) await this.#forget(feed, version);
        else found.push({ key, version });
      }
      const records: SnapshotRecord[] = [];
      this.#records.set(feed, records);
      for (const [i, { key, version }] of found.entries()) {
        const head = i >= found.length - this.#keep ? await this.store.head(key, HEAD_BYTES) : null;
        const stored = head && this.#snapshotOf(feed, version, head, await this.store.size(key));
        if (!stored) {
          await this.#forget(feed, version);
          continue;
        }
        records.push(recordOf(stored));
        this.#latest.set(feed, stored);
      }
    }
  }

  /**
   * Registers the snapshot of `feed` at `version` that the store already holds (a scan moved its file
   * there), reading it as `load` reads the newest, and forgets the oldest beyond the retention count.
   */
  async addStored(feed: FeedName, version: number): Promise<void> {
    const key = snapshotKey(feed, version);
    const head = await this.store.head(key, HEAD_BYTES);
    if (!head) throw new Error(`no stored snapshot of ${feed} at version ${version}`);
    const stored = this.#snapshotOf(feed, version, head, await this.store.size(key));
    if (!stored) throw new Error(`the stored snapshot of ${feed} at version ${version} is not one`);
    await this.#install(feed, stored);
  }

  /**
   * Forgets a snapshot and deletes its files: one found damaged, so that a scan of this very version can
   * store it again. Until the next `addStored`, a feed whose latest snapshot this was has none.
   */
  async discard(feed: FeedName, version: number): Promise<void> {
    this.#records.set(
      feed,
      this.retained(feed).filter((r) => r.version !== version),
    );
    if (this.#latest.get(feed)?.version === version) this.#latest.delete(feed);
    await this.#forget(feed, version);
  }

  /** Retained snapshots of `feed`, oldest first. */
  retained(feed: FeedName): readonly SnapshotRecord[] {
    return this.#records.get(feed) ?? [];
  }

  latest(feed: FeedName): StoredSnapshot | undefined {
    return this.#latest.get(feed);
  }

  /** The newest retained snapshot at or before `version`: the base a consumer at `version` came from. */
  covering(feed: FeedName, version: number): SnapshotRecord | undefined {
    return this.retained(feed).findLast((r) => r.version <= version);
  }

  async #install(feed: FeedName, stored: StoredSnapshot): Promise<void> {
    const records = this.retained(feed).filter((r) => r.version !== stored.version);
    const record = recordOf(stored);
    records.push(record);
    records.sort((a, b) => a.version - b.version);
    this.#records.set(feed, records);
    if (record === records.at(-1)) this.#latest.set(feed, stored);
    while (records.length > this.#keep) {
      const oldest = records.shift() as SnapshotRecord;
      await this.#forget(feed, oldest.version);
    }
  }

  /**
   * The snapshot `head` (its first bytes, `size` the whole file's) announces, holding a copy of the head
   * alone; undefined when it is not a well-formed snapshot of `feed` at `version`.
   */
  #snapshotOf(
    feed: FeedName,
    version: number,
    head: Uint8Array,
    size: number | null,
  ): StoredSnapshot | undefined {
    const decoded = decodeArtifact(head);
    if (!decoded.ok) return undefined;
    const { manifest } = decoded.value;
    const offset = payloadOffsetOf(head);
    const bits = feed === 'filter' ? filterBits(head) : undefined;
    if (
      manifest.kind !== 'snapshot' ||
      manifest.to !== version ||
      manifest.feed !== feed ||
      size !== offset + manifest.payloadLength ||
      (feed === 'filter' && bits === undefined)
    )
      return undefined;
    // A copy: a view would keep the whole artifact the head was read from.
    return { version, ...(bits && { bits }), manifest, head: head.slice(0, offset) };
  }

  /** Deletes a snapshot's files: the artifact and its payload's gzip. */
  async #forget(feed: FeedName, version: number): Promise<void> {
    for (const key of await this.store.list(`snapshots/${feed}/${versionDigits(version)}.`))
      await this.store.delete(key);
  }
}

const recordOf = ({ version, bits }: StoredSnapshot): SnapshotRecord =>
  bits ? { version, bits } : { version };
