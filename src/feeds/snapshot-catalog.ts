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

/** One retained snapshot; the newest one of a feed also keeps its bytes (as stored: dated at its commit). */
export interface SnapshotRecord {
  version: number;
  /** `filter` only: the key widths of its key sets. */
  bits?: KeyWidths;
}

export interface StoredSnapshot extends SnapshotRecord {
  bytes: Uint8Array;
  manifest: Manifest;
}

const KEY = /^snapshots\/([a-z0-9-]+)\/(\d{16})\.tkd$/;
/** Enough of an artifact for its manifest (checkpoint up to 64 KiB) and a filter payload's header. */
const HEAD_BYTES = 1 << 17;

export const snapshotKey = (feed: FeedName, version: number): string =>
  `snapshots/${feed}/${String(version).padStart(16, '0')}.tkd`;

/** The key widths of a filter snapshot artifact, from its payload's header. */
const filterBits = (bytes: Uint8Array): KeyWidths | undefined =>
  filterSnapshotWidths(bytes.subarray(payloadOffsetOf(bytes)));

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
   * another registry), that do not decode, or filter snapshots of another payload format (no key widths
   * to read) are deleted: serving them would mislead every consumer.
   */
  async load(feeds: readonly FeedName[], currentVersion: number): Promise<void> {
    for (const feed of feeds) {
      const found: { key: string; version: number }[] = [];
      for (const key of await this.store.list(`snapshots/${feed}/`)) {
        const version = Number(KEY.exec(key)?.[2] ?? Number.NaN);
        if (!Number.isSafeInteger(version)) continue;
        if (version > currentVersion) await this.store.delete(key);
        else found.push({ key, version });
      }
      const records: SnapshotRecord[] = [];
      this.#records.set(feed, records);
      for (const [i, { key, version }] of found.entries()) {
        // Only the newest is served: the others are read as far as their manifest and payload header (their
        // version and key widths), which spares reading (and holding) hundreds of MB each at 10M entries.
        const latest = i === found.length - 1;
        const retained = i >= found.length - this.#keep;
        const bytes = !retained
          ? null
          : latest
            ? await this.store.get(key)
            : await this.store.head(key, HEAD_BYTES);
        const decoded = bytes ? decodeArtifact(bytes) : null;
        if (
          !bytes ||
          !decoded?.ok ||
          decoded.value.manifest.to !== version ||
          decoded.value.manifest.feed !== feed ||
          (feed === 'filter' && filterBits(bytes) === undefined)
        ) {
          await this.store.delete(key);
          continue;
        }
        const record = feed === 'filter' ? { version, bits: filterBits(bytes) } : { version };
        records.push(record);
        if (latest) this.#latest.set(feed, { ...record, bytes, manifest: decoded.value.manifest });
      }
    }
  }

  /**
   * Registers the snapshot of `feed` at `version` that the store already holds (a scan moved its file
   * there), reading it as `load` reads the newest, and forgets the oldest beyond the retention count.
   */
  async addStored(feed: FeedName, version: number): Promise<void> {
    const bytes = await this.store.get(snapshotKey(feed, version));
    if (!bytes) throw new Error(`no stored snapshot of ${feed} at version ${version}`);
    const decoded = decodeArtifact(bytes);
    if (!decoded.ok)
      throw new Error(`snapshot artifact of ${feed} does not decode: ${decoded.error.message}`);
    const { manifest } = decoded.value;
    if (manifest.to !== version || manifest.feed !== feed)
      throw new Error(`the stored snapshot of ${feed} at version ${version} is another artifact`);
    const records = (this.#records.get(feed) ?? []).filter((r) => r.version !== manifest.to);
    const record =
      feed === 'filter' ? { version: manifest.to, bits: filterBits(bytes) } : { version: manifest.to };
    records.push(record);
    records.sort((a, b) => a.version - b.version);
    this.#records.set(feed, records);
    if (record === records.at(-1)) this.#latest.set(feed, { ...record, bytes, manifest });
    await this.#prune(feed);
  }

  /**
   * Lends the latest snapshot of `feed` to `use`, which may move its bytes (to a worker thread and back, so
   * that hundreds of MB are not copied): until `use` resolves with the same artifact (its bytes back), the
   * catalog shows no latest snapshot of `feed` and nothing serves it; if `use` fails, it stays so until the
   * next `add`. Resolves with what `use` made of the bytes.
   */
  async lend<T>(
    feed: FeedName,
    use: (bytes: Uint8Array) => Promise<{ bytes: Uint8Array; value: T }>,
  ): Promise<T> {
    const latest = this.#latest.get(feed);
    if (!latest) throw new Error(`no stored snapshot of ${feed} to lend`);
    this.#latest.delete(feed);
    const returned = await use(latest.bytes);
    if (returned.bytes.length !== latest.manifest.payloadLength + payloadOffsetOf(returned.bytes))
      throw new Error(`the lent snapshot of ${feed} came back as other bytes`);
    if (!this.#latest.has(feed)) this.#latest.set(feed, { ...latest, bytes: returned.bytes });
    return returned.value;
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

  async #prune(feed: FeedName): Promise<void> {
    const records = this.#records.get(feed) ?? [];
    while (records.length > this.#keep) {
      const oldest = records.shift() as SnapshotRecord;
      await this.store.delete(snapshotKey(feed, oldest.version));
    }
  }
}
