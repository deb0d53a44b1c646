/**
 * The isolate's copy of the `filter` feed. One {@link FeedReplica.update} pass moves it forward with the
 * bucket first (the chain of deltas the cron stored, so the edge keeps working while the hub is down), then
 * with the hub. Every artifact goes through the shared consumer, which verifies it against the pinned keys
 * and keeps the last good state when it refuses one.
 */
import { createFeedConsumer, type FeedConsumer } from '../../src/core/consumer.ts';
import type { FilterState } from '../../src/core/filter-state.ts';
import type { PublicKey } from '../../src/core/keys.ts';
import type { Failure, Result } from '../../src/core/types.ts';
import type { FeedStore } from './feed-store.ts';
import type { HubClient } from './hub-client.ts';

export const FEED = 'filter';
/** Largest artifact accepted: above this an isolate could not hold the state anyway. */
export const MAX_ARTIFACT_BYTES = 100 * 1024 * 1024;

/** What one update pass did, for the status endpoint and the logs. */
export interface UpdateReport {
  at: number;
  from: number | null;
  to: number | null;
  /** Artifacts applied, by where they came from. */
  applied: { bucket: number; hub: number };
  /** Artifacts refused, and sources that failed, with the reason. */
  problems: (Failure & { source: 'bucket' | 'hub' })[];
}

export interface ReplicaSources {
  store: FeedStore | null;
  hub: HubClient | null;
}

/** Delta codes after which only a snapshot can bring the state back in line. */
const RESYNC_CODES = new Set(['gap', 'checksum_mismatch', 'entry_count_mismatch', 'resync_required']);

export class FeedReplica {
  #consumer: FeedConsumer<FilterState>;

  constructor(
    private readonly trust: readonly PublicKey[],
    private readonly sources: ReplicaSources,
  ) {
    this.#consumer = this.fresh();
  }

  get state(): FilterState | null {
    return this.#consumer.state;
  }

  get version(): number | null {
    return this.#consumer.version;
  }

  get expiresAt(): number | null {
    return this.#consumer.expiresAt;
  }

  isFresh(now: number): boolean {
    return this.#consumer.isFresh(now);
  }

  /** One pass over the sources; never throws, and the state only ever moves to a verified newer version. */
  async update(now: number): Promise<UpdateReport> {
    const report: UpdateReport = {
      at: now,
      from: this.version,
      to: null,
      applied: { bucket: 0, hub: 0 },
      problems: [],
    };
    const { store, hub } = this.sources;
    if (store) await this.fromBucket(store, now, report);
    if (hub) await this.fromHub(hub, now, report);
    report.to = this.version;
    return report;
  }

  private async fromBucket(store: FeedStore, now: number, report: UpdateReport): Promise<void> {
    try {
      const before = report.applied.bucket;
      if (this.version !== null) await this.followChain(this.#consumer, store, now, report);
      if (report.applied.bucket > before) return;
      // No link from the state (the cron pruned it after a newer snapshot, or never stored it): start over
      // from the bucket's snapshot when it is newer.
      const info = this.version === null ? null : await store.snapshotInfo();
      if (this.version !== null && (info === null || info.to <= this.version)) return;
      const snapshot = await store.snapshot();
      if (!snapshot) return;
      const next = this.fresh();
      if (!this.accept(await next.apply(snapshot, now), 'bucket', report)) return;
      await this.followChain(next, store, now, report);
      if (this.version === null || (next.version as number) > this.version) this.#consumer = next;
    } catch (error) {
      report.problems.push({ source: 'bucket', code: 'bucket_error', message: String(error) });
    }
  }

  /** Applies the stored deltas from the consumer's version on, up to the first missing or refused one. */
  private async followChain(
    consumer: FeedConsumer<FilterState>,
    store: FeedStore,
    now: number,
    report: UpdateReport,
  ): Promise<void> {
    for (;;) {
      const delta = await store.delta(consumer.version as number);
      if (!delta || !this.accept(await consumer.apply(delta, now), 'bucket', report)) return;
    }
  }

  private async fromHub(hub: HubClient, now: number, report: UpdateReport): Promise<void> {
    const current = this.version;
    if (current !== null) {
      const answer = await hub.delta(FEED, current);
      if (!answer.ok) return void report.problems.push({ source: 'hub', ...answer.error });
      if (answer.value.kind === 'current') return;
      if (answer.value.kind === 'artifact') {
        const applied = await this.#consumer.apply(answer.value.bytes, now);
        if (this.accept(applied, 'hub', report) || !RESYNC_CODES.has(applied.ok ? '' : applied.error.code)) return;
      }
    }
    const snapshot = await hub.snapshot(FEED);
    if (!snapshot.ok) return void report.problems.push({ source: 'hub', ...snapshot.error });
    const next = this.fresh();
    if (!this.accept(await next.apply(snapshot.value, now), 'hub', report)) return;
    if (current === null || (next.version as number) > current) this.#consumer = next;
  }

  private accept(result: Result<unknown>, source: 'bucket' | 'hub', report: UpdateReport): boolean {
    if (result.ok) report.applied[source]++;
    else report.problems.push({ source, ...result.error });
    return result.ok;
  }

  private fresh(): FeedConsumer<FilterState> {
    return createFeedConsumer(FEED, this.trust, { maxBytes: MAX_ARTIFACT_BYTES });
  }
}
