/**
 * One isolate's edge: the configuration, the feed replica and the services built from them, composed in one
 * place. The state lives in isolate memory; the first request loads it and every later refresh runs in the
 * background (at most one per refresh interval), so no request after the first waits for one.
 */
import type { FilterState } from '../../src/core/filter-state.ts';
import { HubClient } from '../../src/core/hub-client.ts';
import { summarizeCheckpoint } from '../../src/core/log-consistency.ts';
import type { Failure } from '../../src/core/types.ts';
import { type PullReport, pullIntoBucket } from './bucket-pull.ts';
import { type EdgeConfig, type EdgeEnv, type FailMode, fallbackOf, parseEdgeEnv } from './config.ts';
import { FeedStore } from './feed-store.ts';
import { OrderLookup } from './order-lookup.ts';
import { FEED, FeedReplica, MAX_ARTIFACT_BYTES, type UpdateReport } from './replica.ts';

/** Keeps background work alive after the response (the Workers `ExecutionContext`). */
export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

/** The longest a request to the hub may take; a lookup for the block page has its own, shorter one. */
const ARTIFACT_TIMEOUT_MS = 20_000;

export class Edge {
  readonly failMode: FailMode;
  /** Upstream override (ORIGIN), also honoured when the rest of the environment was refused. */
  readonly origin: URL | null;
  readonly orders: OrderLookup;
  lastRefresh: UpdateReport | null = null;
  lastPull: PullReport | null = null;
  readonly #hub: HubClient | null;
  readonly #store: FeedStore | null;
  readonly #replica: FeedReplica | null;
  #refreshing: Promise<unknown> | null = null;
  #lastStart = Number.NEGATIVE_INFINITY;

  private constructor(
    /** The parsed configuration, or why the environment was refused (the edge then has no feed). */
    readonly config: EdgeConfig | Failure,
    fallback: { failMode: FailMode; origin: URL | null },
    private readonly clock: () => number,
  ) {
    this.failMode = fallback.failMode;
    this.origin = fallback.origin;
    const c = 'failMode' in config ? config : null;
    this.#hub = c?.hubUrl
      ? new HubClient({
          hub: c.hubUrl,
          token: c.hubToken,
          maxBytes: MAX_ARTIFACT_BYTES,
          timeoutMs: ARTIFACT_TIMEOUT_MS,
        })
      : null;
    this.#store = c?.bucket ? new FeedStore(c.bucket) : null;
    this.#replica = c ? new FeedReplica(c.trustedKeys, { store: this.#store, hub: this.#hub }) : null;
    this.orders = new OrderLookup(this.#hub);
  }

  /** The edge for `env`; `clock` gives milliseconds since the epoch (tests move it to expire artifacts). */
  static async create(env: EdgeEnv, clock: () => number = Date.now): Promise<Edge> {
    const config = await parseEdgeEnv(env);
    if (config.ok) return new Edge(config.value, config.value, clock);
    console.error(JSON.stringify({ event: 'edge_config_refused', ...config.error }));
    return new Edge(config.error, fallbackOf(env), clock);
  }

  get settings(): EdgeConfig | null {
    return 'failMode' in this.config ? this.config : null;
  }

  get version(): number | null {
    return this.#replica?.version ?? null;
  }

  /**
   * The state to check a request against. Before the first load it waits for a load (joining one in
   * flight); afterwards it returns at once and starts a background refresh when the interval has passed.
   * Null when no valid feed has ever loaded.
   */
  async ready(ctx: WaitUntil): Promise<FilterState | null> {
    const replica = this.#replica;
    if (!replica) return null;
    const due = this.clock() - this.#lastStart >= (this.settings as EdgeConfig).refreshMs;
    if (replica.state === null) {
      // Kept alive by waitUntil too: requests joining this load must not lose it if this client goes away.
      const load = this.#refreshing ?? (due ? this.refresh() : null);
      if (load) {
        ctx.waitUntil(load);
        await load;
      }
      return replica.state;
    }
    if (due && !this.#refreshing) ctx.waitUntil(this.refresh());
    return replica.state;
  }

  /** One update pass (joined when one is already running). */
  refresh(): Promise<unknown> {
    const replica = this.#replica;
    if (!replica) return Promise.resolve();
    if (this.#refreshing) return this.#refreshing;
    this.#lastStart = this.clock();
    this.#refreshing = replica
      .update(this.#lastStart)
      .then((report) => {
        this.lastRefresh = report;
        if (report.problems.length > 0) console.warn(JSON.stringify({ event: 'feed_refresh', ...report }));
      })
      .finally(() => {
        this.#refreshing = null;
      });
    return this.#refreshing;
  }

  /** The cron's work: pull new artifacts from the hub into the bucket. */
  async pull(): Promise<PullReport | null> {
    const c = this.settings;
    if (!c || !this.#store || !this.#hub) return null;
    const report = await pullIntoBucket(this.#store, this.#hub, c.trustedKeys, this.clock());
    this.lastPull = report;
    console.log(JSON.stringify({ event: 'feed_pull', ...report }));
    return report;
  }

  isFresh(): boolean {
    return this.#replica?.isFresh(this.clock()) ?? false;
  }

  now(): number {
    return this.clock();
  }

  /** What an operator needs to see about this isolate's feed. */
  status() {
    const replica = this.#replica;
    const expiresAt = replica?.expiresAt ?? null;
    return {
      feed: FEED,
      version: this.version,
      fresh: this.isFresh(),
      expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
      failMode: this.failMode,
      configError: 'failMode' in this.config ? null : this.config,
      sources: { bucket: this.#store !== null, hub: this.#hub !== null },
      checkpoint: replica?.checkpoint ? summarizeCheckpoint(replica.checkpoint) : null,
      refusals: { ...replica?.refusals },
      lastRefresh: this.lastRefresh,
      lastPull: this.lastPull,
    };
  }
}
