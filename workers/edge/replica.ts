/**
 * The isolate's copy of the `filter` feed. One {@link FeedReplica.update} pass moves it forward with the
 * bucket first (what the cron or `takedown publish` stored there, so the edge keeps working while the hub
 * is down), then with the hub. Every artifact goes through the shared consumer, which verifies it against the pinned keys
 * and keeps the last good state when it refuses one.
 */
import { verifyCheckpoint } from '../../src/core/checkpoint.ts';
import { createFeedConsumer, type FeedConsumer } from '../../src/core/consumer.ts';
import type { FilterState } from '../../src/core/filter-state.ts';
import { type HubClient, needsSnapshot } from '../../src/core/hub-client.ts';
import type { PublicKey } from '../../src/core/keys.ts';
import {
  type ConsistencySource,
  type HeldCheckpoint,
  hubConsistencySource,
  proofFromAnswer,
  publishedTilesSource,
} from '../../src/core/log-consistency.ts';
import { type FeedIndex, feedEntry } from '../../src/core/static-layout.ts';
import { type Failure, fail, type Result } from '../../src/core/types.ts';
import type { FeedStore } from './feed-store.ts';
import { hubProblem } from './hub-problem.ts';

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

export class FeedReplica {
  #consumer: FeedConsumer<FilterState>;
  /** Artifacts refused since the isolate started, by code (log_inconsistent among them). */
  readonly refusals: Record<string, number> = {};
  /** The version of the checkpoint the bucket holds for the edge (-1: not read yet; 0: none). */
  #storedCheckpoint = -1;

  constructor(
    private readonly trust: readonly PublicKey[],
    private readonly sources: ReplicaSources,
  ) {
    this.#consumer = this.fresh(null);
  }

  /** The transparency-log checkpoint the replica holds (docs/TRANSPARENCY.md, for consumers). */
  get checkpoint(): HeldCheckpoint | null {
    return this.#consumer.checkpoint;
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
    if (store && this.#storedCheckpoint < 0) await this.loadCheckpoint(store, report);
    const listed = store ? await this.readIndex(store, report) : null;
    let reloaded = false;
    if (store && listed) reloaded = await this.fromBucket(store, listed, now, report, false);
    if (hub) await this.fromHub(hub, now, report);
    // Still behind the bucket with no delta from here (the hub is down and the state came from it):
    // reloading the bucket's older snapshot and its delta is the way forward.
    if (store && listed && !reloaded && listed.version > (this.version ?? -1)) {
      await this.fromBucket(store, listed, now, report, true);
    }
    report.to = this.version;
    const held = this.#consumer.checkpoint;
    if (store && held && held.version > this.#storedCheckpoint) {
      try {
        await store.putHeldCheckpoint(held.note);
        this.#storedCheckpoint = held.version;
      } catch (error) {
        report.problems.push({ source: 'bucket', code: 'bucket_error', message: String(error) });
      }
    }
    return report;
  }

  /**
   * The checkpoint an earlier isolate held, so that a new one does not take a forked log on trust. It is
   * signed: one that no pinned key signed is ignored (and reported).
   */
  private async loadCheckpoint(store: FeedStore, report: UpdateReport): Promise<void> {
    try {
      const note = await store.heldCheckpoint();
      this.#storedCheckpoint = 0;
      if (note === null) return;
      const verified = await verifyCheckpoint(note, this.trust);
      if (!verified.ok) {
        report.problems.push({
          source: 'bucket',
          code: 'checkpoint_invalid',
          message: verified.error.message,
        });
        return;
      }
      this.#storedCheckpoint = verified.value.version;
      if (this.#consumer.state === null) this.#consumer = this.fresh({ ...verified.value, note });
    } catch (error) {
      report.problems.push({ source: 'bucket', code: 'bucket_error', message: String(error) });
    }
  }

  /**
   * Consistency proofs: from the log tiles published beside the artifacts (`takedown publish` writes them
   * under `log/`), else from the hub's proof route.
   */
  private readonly proofs: ConsistencySource = async (older, newer) => {
    const { store, hub } = this.sources;
    if (store) {
      const tiles = await publishedTilesSource((path) => store.file(path))(older, newer);
      if (tiles.ok || tiles.error.code !== 'proof_unavailable') return tiles;
      const kept = await store.consistencyAnswer(older.version, newer.version).catch(() => null);
      if (kept !== null) return proofFromAnswer(kept, older, newer);
      if (!hub) return tiles;
    }
    if (hub) return hubConsistencySource(hub)(older, newer);
    return fail('proof_unavailable', 'no log tiles in the bucket and no hub to ask for a consistency proof');
  };

  private async readIndex(store: FeedStore, report: UpdateReport): Promise<FeedIndex | null> {
    try {
      return feedEntry(await store.index(), FEED);
    } catch (error) {
      report.problems.push({ source: 'bucket', code: 'bucket_error', message: String(error) });
      return null;
    }
  }

  /**
   * Applies the listed delta from the state's version; reloads the listed snapshot (and the delta from it)
   * when that is newer, when the delta asked for a resync, or, with `reload`, whenever the reload gets
   * past the state. Returns whether it reloaded.
   */
  private async fromBucket(
    store: FeedStore,
    listed: FeedIndex,
    now: number,
    report: UpdateReport,
    reload: boolean,
  ): Promise<boolean> {
    const current = this.version;
    if (current !== null && listed.version <= current) return false;
    try {
      const base = listed.snapshot.version;
      const onward = listed.deltas.find((d) => d.from === base);
      if (current !== null) {
        const delta = reload ? undefined : listed.deltas.find((d) => d.from === current);
        if (delta) {
          const refused = await this.applyStored(this.#consumer, store, delta.path, now, report);
          if (refused === null || !needsSnapshot(refused)) return false;
        } else if (!reload && base <= current) return false;
        // A reload through the same snapshot and delta that brought the state here gains nothing.
        const gains = base > current || (base < current && (onward?.to ?? -1) > current);
        if (!gains) return false;
      }
      const next = this.fresh();
      if ((await this.applyStored(next, store, listed.snapshot.path, now, report)) !== null) return true;
      if (onward) await this.applyStored(next, store, onward.path, now, report);
      if (current === null || (next.version as number) > current) this.#consumer = next;
    } catch (error) {
      report.problems.push({ source: 'bucket', code: 'bucket_error', message: String(error) });
    }
    return true;
  }

  /** Applies a stored artifact; the refusal code, or null when it was applied. */
  private async applyStored(
    consumer: FeedConsumer<FilterState>,
    store: FeedStore,
    path: string,
    now: number,
    report: UpdateReport,
  ): Promise<string | null> {
    const bytes = await store.file(path);
    if (!bytes) {
      const message = `index.json lists ${path}, the bucket lacks it`;
      report.problems.push({ source: 'bucket', code: 'missing_artifact', message });
      return 'missing_artifact';
    }
    return this.record(await consumer.apply(bytes, now), 'bucket', report);
  }

  private async fromHub(hub: HubClient, now: number, report: UpdateReport): Promise<void> {
    const current = this.version;
    if (current !== null && (await this.hubDelta(hub, this.#consumer, now, report)) === 'done') return;
    const snapshot = await hub.snapshot(FEED);
    if (snapshot.kind === 'failed')
      return void report.problems.push({ source: 'hub', ...hubProblem(snapshot) });
    if (snapshot.kind !== 'artifact') return;
    const next = this.fresh();
    if (this.record(await next.apply(snapshot.bytes, now), 'hub', report) !== null) return;
    // The hub's latest snapshot may trail its latest version by a few commits.
    await this.hubDelta(hub, next, now, report);
    if (current === null || (next.version as number) > current) this.#consumer = next;
  }

  /** Asks the hub for the delta from the consumer's version and applies it; `resync` when only a snapshot helps. */
  private async hubDelta(
    hub: HubClient,
    consumer: FeedConsumer<FilterState>,
    now: number,
    report: UpdateReport,
  ): Promise<'done' | 'resync'> {
    const answer = await hub.delta(FEED, consumer.version as number);
    if (answer.kind === 'failed') {
      report.problems.push({ source: 'hub', ...hubProblem(answer) });
      return 'done';
    }
    if (answer.kind !== 'artifact') return answer.kind === 'resync' ? 'resync' : 'done';
    const refused = this.record(await consumer.apply(answer.bytes, now), 'hub', report);
    return refused !== null && needsSnapshot(refused) ? 'resync' : 'done';
  }

  /** Counts an applied artifact or records why it was refused; the refusal code, or null. */
  private record(result: Result<unknown>, source: 'bucket' | 'hub', report: UpdateReport): string | null {
    if (result.ok) {
      report.applied[source]++;
      return null;
    }
    report.problems.push({ source, ...result.error });
    this.refusals[result.error.code] = (this.refusals[result.error.code] ?? 0) + 1;
    return result.error.code;
  }

  /** A consumer with no state, holding `checkpoint` (default: the current one's), so a reload cannot fork. */
  private fresh(checkpoint: HeldCheckpoint | null = this.#consumer.checkpoint): FeedConsumer<FilterState> {
    const proofs: ConsistencySource = (older, newer) => this.proofs(older, newer);
    const log = { proofs, checkpoint };
    return createFeedConsumer(FEED, this.trust, { maxBytes: MAX_ARTIFACT_BYTES, log });
  }
}
