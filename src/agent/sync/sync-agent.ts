import { decodeArtifact } from '../../core/artifact.ts';
import { createFeedConsumer, type FeedConsumer } from '../../core/consumer.ts';
import { HubClient, needsSnapshot, USER_AGENT } from '../../core/hub-client.ts';
import type { PublicKey } from '../../core/keys.ts';
import { type FeedSource, MirrorClient } from '../../core/mirror-client.ts';
import type { PlainState } from '../../core/plain-state.ts';
import type { Failure } from '../../core/types.ts';
import { type ZoneFeed, zoneChanges } from '../../dns/zone-feed.ts';
import { ApplyReporter } from './apply-reporter.ts';
import { Backoff, sleep } from './backoff.ts';
import { KeySetFollower } from './key-set-follower.ts';
import { OutputRetries } from './output-retries.ts';
import { OutputSet } from './output-set.ts';
import { type AppliedMeta, StateStore } from './state-store.ts';
import type { SyncConfig } from './sync-config.ts';
import type { SyncLog } from './sync-log.ts';
import { SyncMetrics } from './sync-metrics.ts';

/** How one poll ended. */
export type PollOutcome =
  | { status: 'applied'; version: number; retryAfterMs?: number }
  | { status: 'current'; version: number | null; retryAfterMs?: number }
  | { status: 'rejected'; code: string; retryAfterMs?: number }
  | { status: 'failed'; reason: string; retryAfterMs?: number };

export interface SyncAgentOptions {
  config: SyncConfig;
  /** The keys pinned in configuration (`--key`). */
  pinned: readonly PublicKey[];
  log: SyncLog;
  metrics?: SyncMetrics;
  /** A policy zone served over DNS from the agent's state (`--serve-rpz`). */
  zone?: ZoneFeed;
  now?: () => number;
  random?: () => number;
}

/** Most artifacts one `--once` run applies before it gives up on reaching the latest version. */
const MAX_ONCE_ROUNDS = 64;

/**
 * The ISP sync agent: holds the last good state of one feed, moves it forward only with artifacts that
 * pass every rule of the consumer library, saves it, renders and reloads the outputs, and reports the
 * applied version. The order inside an apply (state saved, then outputs rendered, each atomically) makes
 * a crash at any instant recoverable: the next start renders whatever output is behind the saved state.
 */
export class SyncAgent {
  readonly metrics: SyncMetrics;
  readonly #config: SyncConfig;
  readonly #log: SyncLog;
  readonly #store: StateStore;
  readonly #client: FeedSource;
  readonly #consumer: FeedConsumer<PlainState>;
  readonly #outputs: OutputSet;
  readonly #zone: ZoneFeed | undefined;
  readonly #now: () => number;
  readonly #backoff: Backoff;
  readonly #outputRetries: OutputRetries;
  readonly #keys: KeySetFollower;
  readonly #reporter: ApplyReporter;
  #meta: AppliedMeta | undefined;
  #needsSnapshot = false;
  /** Whether the last poll reached the hub. */
  #hubReachable = false;
  /** `--once` renders and reports once, after the last version is applied, not after each artifact. */
  #deferOutputs = false;

  private constructor(options: SyncAgentOptions, store: StateStore, consumer: FeedConsumer<PlainState>) {
    const { config } = options;
    this.#config = config;
    this.#log = options.log;
    this.metrics = options.metrics ?? new SyncMetrics();
    this.#zone = options.zone;
    this.#now = options.now ?? Date.now;
    this.#store = store;
    this.#consumer = consumer;
    const hub =
      config.hub === undefined
        ? null
        : new HubClient({
            hub: config.hub,
            token: config.token ?? null,
            maxBytes: config.maxBytes,
            userAgent: USER_AGENT,
            now: this.#now,
          });
    const mirror = config.mirror;
    this.#client = mirror
      ? new MirrorClient({ mirror, maxBytes: config.maxBytes, userAgent: USER_AGENT, now: this.#now })
      : (hub as HubClient);
    this.#outputs = new OutputSet(config.outputs, store.outputs, {
      render: config.render,
      reloadTimeoutMs: config.reloadTimeoutSeconds * 1000,
      log: this.#log,
      metrics: this.metrics,
    });
    this.#keys = new KeySetFollower({
      client: this.#client,
      consumer,
      store,
      pinned: options.pinned,
      log: this.#log,
      reject: (error, bytes) => this.#reject(error, bytes),
      now: this.#now,
    });
    this.#reporter = new ApplyReporter({
      client: hub,
      feed: config.feed,
      outputs: this.#outputs,
      log: this.#log,
      metrics: this.metrics,
      now: this.#now,
    });
    const backoff = { maxMs: config.maxBackoffSeconds * 1000, random: options.random };
    this.#backoff = new Backoff(backoff);
    this.#outputRetries = new OutputRetries(backoff, this.#now);
  }

  /**
   * Opens the state directory and resumes from the state saved there (checked against its checksum;
   * a damaged one is dropped and the agent starts from a snapshot). Nothing is fetched or rendered yet.
   */
  static async open(options: SyncAgentOptions): Promise<SyncAgent> {
    const { config, log } = options;
    const store = await StateStore.open(config.stateDir, config.feed);
    const trust = (await store.trustedKeys(options.pinned)) ?? options.pinned;
    let loaded = await store.loadEntries();
    if (!loaded.ok) {
      log('error', 'local_state_damaged', { message: loaded.error.message });
      await store.clearApplied();
      loaded = { ok: true, value: null };
    }
    const resume = loaded.value?.saved;
    const consumer = createFeedConsumer(config.feed, trust, {
      maxBytes: config.maxBytes,
      ...(resume && { resume }),
    });
    const agent = new SyncAgent(options, store, consumer);
    agent.#meta = loaded.value?.meta;
    agent.#updateStatus();
    return agent;
  }

  /** The applied version, null before the first snapshot. */
  get version(): number | null {
    return this.#consumer.version;
  }

  /**
   * Brings every output up to the saved state before anything is fetched, so a restart with the hub
   * unreachable enforces the last good list. Returns false when an output could not be applied.
   */
  async restore(): Promise<boolean> {
    await this.#outputs.removeStaleTemporaryFiles();
    const state = this.#consumer.state;
    const version = this.#consumer.version;
    if (state === null || version === null) return true;
    const now = this.#now();
    if (!this.#consumer.isFresh(now)) {
      // The list stays enforced: an expired state is stale, not wrong, and lifting blocks would be worse.
      this.#log('warn', 'state_expired', {
        version,
        expiresAt: new Date(this.#consumer.expiresAt ?? 0).toISOString(),
      });
    }
    // The zone's first state: nothing to replay, the zone computes what it needs.
    this.#zone?.publish(version, state, null);
    this.#reporter.markPending();
    const behind = await this.#outputs.behind(version);
    if (behind.length === 0) return true;
    this.#log('info', 'restore', { version, outputs: behind.map((o) => o.path) });
    return this.#applyOutputs(behind, state, version);
  }

  /** One poll of the hub (a long-poll of `waitSeconds` when the agent holds a state), applied if new. */
  async poll(waitSeconds: number, signal?: AbortSignal): Promise<PollOutcome> {
    const version = this.#consumer.version;
    const wantSnapshot = version === null || this.#needsSnapshot;
    let fetched = wantSnapshot
      ? await this.#client.snapshot(this.#config.feed, { signal })
      : await this.#client.delta(this.#config.feed, version, waitSeconds, signal);
    // Stopping interrupts a long-poll: that is no failure of the hub.
    if (signal?.aborted) return { status: 'failed', reason: 'stopped' };
    if (fetched.kind === 'resync') {
      this.#log('warn', 'resync', { version, reason: 'the hub has no delta from this version' });
      this.#needsSnapshot = true;
      fetched = await this.#client.snapshot(this.#config.feed, { signal });
    }
    const retryAfterMs = fetched.retryAfterMs;
    switch (fetched.kind) {
      case 'current':
        if (!wantSnapshot) {
          await this.#contacted();
          return { status: 'current', version, retryAfterMs };
        }
        return this.#fetchFailed('http', 'the hub answered 304 to a snapshot request', retryAfterMs);
      case 'artifact': {
        const outcome = await this.#applyArtifact(fetched.bytes, true);
        if (outcome.status === 'applied') await this.#contacted();
        return { ...outcome, retryAfterMs };
      }
      case 'absent':
        return this.#fetchFailed('http', `the hub has no feed "${this.#config.feed}"`, retryAfterMs);
      case 'resync':
        return this.#fetchFailed('http', 'the hub asked for a resync on a snapshot request', retryAfterMs);
      default:
        return this.#fetchFailed(fetched.reason, fetched.message, retryAfterMs);
    }
  }

  /**
   * `--once`: restore, then snapshot and deltas without waiting until the hub says the agent is current;
   * render and report once, at that version. True when the outputs enforce the hub's latest version; false
   * (outputs untouched by this run) when it could not be reached, with the reason logged.
   */
  async syncOnce(signal?: AbortSignal): Promise<boolean> {
    await this.restore();
    this.#deferOutputs = true;
    let outcome: PollOutcome;
    try {
      outcome = await this.#pollUntilCurrent(signal);
    } finally {
      this.#deferOutputs = false;
    }
    if (outcome.status !== 'current') {
      this.#log('error', 'once_incomplete', {
        version: this.#consumer.version,
        ...('code' in outcome && { code: outcome.code }),
        ...('reason' in outcome && { reason: outcome.reason }),
      });
      return false;
    }
    const state = this.#consumer.state;
    const version = this.#consumer.version;
    if (state === null || version === null) return false;
    const behind = await this.#outputs.behind(version);
    const rendered = behind.length === 0 || (await this.#applyOutputs(behind, state, version));
    await this.#sendReport();
    return rendered;
  }

  /** Polls without waiting until the hub answers "current"; a rejected delta may fall back to one snapshot. */
  async #pollUntilCurrent(signal?: AbortSignal): Promise<PollOutcome> {
    let snapshotRetried = false;
    // Each applied artifact moves the version forward; the bound only stops a hub that never settles.
    for (let round = 0; round < MAX_ONCE_ROUNDS; round++) {
      const outcome = await this.poll(0, signal);
      if (outcome.status === 'applied') continue;
      if (outcome.status === 'rejected' && this.#needsSnapshot && !snapshotRetried) {
        snapshotRetried = true;
        continue;
      }
      return outcome;
    }
    return { status: 'failed', reason: `the hub did not settle after ${MAX_ONCE_ROUNDS} artifacts` };
  }

  /**
   * The daemon: restore, then long-poll until `signal` aborts. Failures back off exponentially with
   * jitter (capped), never sooner than the hub's `Retry-After`; outputs that failed are retried on
   * their own back-off meanwhile.
   */
  async run(signal: AbortSignal): Promise<void> {
    await this.restore();
    // The first poll does not wait: it tells at once whether the hub moved on while the agent was down.
    let first = true;
    while (!signal.aborted) {
      await this.#retryOutputs();
      await this.#keys.check(signal);
      const started = this.#now();
      let delay: number;
      try {
        const outcome = await this.poll(first ? 0 : this.#waitSeconds(), signal);
        first = false;
        if (outcome.status === 'applied' || outcome.status === 'current') {
          this.#backoff.reset();
          // A hub that does not long-poll answers at once: keep to the interval then.
          const interval =
            outcome.status === 'applied' ? 0 : started + this.#config.intervalSeconds * 1000 - this.#now();
          delay = Math.max(interval, outcome.retryAfterMs ?? 0);
        } else {
          delay = Math.max(this.#backoff.fail(), outcome.retryAfterMs ?? 0);
        }
      } catch (error) {
        if (signal.aborted) break;
        this.#log('error', 'poll_error', { message: (error as Error).message });
        delay = this.#backoff.fail();
      }
      delay = this.#outputRetries.clampDelay(delay);
      await sleep(delay, signal);
    }
  }

  #waitSeconds(): number {
    const wait = this.#config.waitSeconds;
    return this.#outputRetries.clampWaitSeconds(wait);
  }

  async #applyArtifact(bytes: Uint8Array, mayFollowKeys: boolean): Promise<PollOutcome> {
    const started = performance.now();
    const previous = this.#consumer.state;
    const result = await this.#consumer.apply(bytes, this.#now());
    if (!result.ok) {
      if (result.error.code === 'untrusted_key' && mayFollowKeys && (await this.#keys.follow())) {
        return this.#applyArtifact(bytes, false);
      }
      return this.#reject(result.error, bytes);
    }
    const manifest = result.value;
    const state = this.#consumer.state as PlainState;
    this.#needsSnapshot = false;
    this.#meta = {
      version: manifest.to,
      expiresAt: manifest.expiresAt,
      createdAt: manifest.createdAt,
      entryCount: manifest.entryCount,
      checksum: manifest.checksum,
      appliedAt: new Date(this.#now()).toISOString(),
    };
    await this.#store.saveApplied(state, this.#meta);
    if (this.#zone) {
      const delta = manifest.kind === 'delta' ? manifest.payload : undefined;
      this.#zone.publish(manifest.to, state, previous ? zoneChanges(previous, state, delta) : null);
    }
    this.#reporter.markPending();
    this.metrics.applied({ kind: manifest.kind });
    this.#log('info', 'applied', {
      kind: manifest.kind,
      from: manifest.from,
      to: manifest.to,
      entries: manifest.entryCount,
    });
    this.#updateStatus();
    if (!this.#deferOutputs) await this.#applyOutputs(this.#config.outputs, state, manifest.to);
    const seconds = (performance.now() - started) / 1000;
    this.metrics.status.lastApplySeconds = seconds;
    this.metrics.applySeconds({}, seconds);
    return { status: 'applied', version: manifest.to };
  }

  #reject(error: Failure, bytes: Uint8Array): PollOutcome {
    const decoded = decodeArtifact(bytes);
    const m = decoded.ok ? decoded.value.manifest : undefined;
    this.metrics.rejection({ reason: error.code });
    this.#log('warn', 'rejected', {
      rule: error.code,
      message: error.message,
      applied: this.#consumer.version,
      ...(m && { kind: m.kind, feed: m.feed, from: m.from, to: m.to, keyId: m.keyId }),
    });
    if (needsSnapshot(error.code) && m?.kind === 'delta') this.#needsSnapshot = true;
    return { status: 'rejected', code: error.code };
  }

  async #applyOutputs(specs: SyncConfig['outputs'], state: PlainState, version: number): Promise<boolean> {
    const allOk = await this.#outputs.apply(specs, state, version, this.#now);
    await this.#store.saveOutputs(this.#outputs.records);
    this.#outputRetries.settle(allOk);
    const appliedAt = allOk ? this.#outputs.appliedAt(version) : undefined;
    if (appliedAt && this.#meta) {
      this.metrics.status.lagSeconds = (Date.parse(appliedAt) - this.#meta.createdAt) / 1000;
    }
    this.#reporter.markPending();
    return allOk;
  }

  async #retryOutputs(): Promise<void> {
    const state = this.#consumer.state;
    const version = this.#consumer.version;
    if (state === null || version === null || !this.#outputRetries.due) return;
    const behind = await this.#outputs.behind(version);
    if (behind.length === 0) return;
    await this.#applyOutputs(behind, state, version);
    // Without waiting for the next answer of the hub, which may hold a long-poll for a while.
    if (this.#hubReachable) await this.#sendReport();
  }

  /** The hub answered: the agent holds its latest version. Sends a pending report. */
  async #contacted(): Promise<void> {
    this.metrics.status.lastSuccessAt = this.#now();
    this.#hubReachable = true;
    await this.#sendReport();
  }

  #sendReport(): Promise<void> {
    if (this.#deferOutputs) return Promise.resolve();
    return this.#reporter.send(this.#consumer.version, this.#meta?.appliedAt);
  }

  #fetchFailed(reason: string, message: string, retryAfterMs: number | undefined): PollOutcome {
    this.#hubReachable = false;
    this.metrics.fetchFailure({ reason });
    this.#log('warn', 'fetch_failed', {
      reason,
      message,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    });
    return { status: 'failed', reason, retryAfterMs };
  }

  #updateStatus(): void {
    const status = this.metrics.status;
    status.version = this.#consumer.version;
    status.entries = this.#consumer.state?.entryCount ?? 0;
    status.expiresAt = this.#consumer.expiresAt ?? 0;
  }
}
