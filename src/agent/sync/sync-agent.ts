import { decodeArtifact } from '../../core/artifact.ts';
import { createFeedConsumer, type FeedConsumer } from '../../core/consumer.ts';
import { HubClient, needsSnapshot, USER_AGENT } from '../../core/hub-client.ts';
import type { PublicKey } from '../../core/keys.ts';
import { hubConsistencySource, LOG_CODES, summarizeCheckpoint } from '../../core/log-consistency.ts';
import { type FeedSource, MirrorClient } from '../../core/mirror-client.ts';
import type { PlainState } from '../../core/plain-state.ts';
import { sleep } from '../../core/sleep.ts';
import type { Failure } from '../../core/types.ts';
import { type ZoneFeed, zoneChanges } from '../../dns/zone-feed.ts';
import { ApplyReporter } from './apply-reporter.ts';
import { Backoff } from './backoff.ts';
import { KeySetFollower } from './key-set-follower.ts';
import { OutputRetries } from './output-retries.ts';
import { OutputSet } from './output-set.ts';
import { payloadDigest } from './payload-digest.ts';
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

/** A failure that arrives sooner than this after the request started is a refused connection. */
const REFUSED_WITHIN_MS = 1_000;
/** The longest wait between attempts while the hub refuses connections at once (jittered down to half). */
const REFUSED_RETRY_CAP_MS = 3_000;

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
  /** Where artifacts come from: the hub, or a static mirror (`--mirror`). */
  readonly #source: FeedSource;
  readonly #consumer: FeedConsumer<PlainState>;
  readonly #outputs: OutputSet;
  readonly #zone: ZoneFeed | undefined;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #backoff: Backoff;
  readonly #outputRetries: OutputRetries;
  readonly #keys: KeySetFollower;
  readonly #reporter: ApplyReporter;
  #meta: AppliedMeta | undefined;
  #needsSnapshot = false;
  /** The snapshot the consumer refused last (its ETag), so the same bytes are not downloaded again. */
  #refusedSnapshot: { etag: string; code: string } | undefined;
  /** Since when, how often and why polls fail; undefined while they succeed. */
  #failing: { since: number; failures: number; reason: string } | undefined;
  /** Whether the last poll reached the hub. */
  #hubReachable = false;
  /** `--once` renders and reports once, after the last version is applied, not after each artifact. */
  #deferOutputs = false;

  private constructor(
    options: SyncAgentOptions,
    store: StateStore,
    consumer: FeedConsumer<PlainState>,
    source: FeedSource,
    /** The hub key sets and reports go to; null when only a mirror is given. */
    hub: HubClient | null,
    readonly agentId: string,
  ) {
    const { config } = options;
    this.#config = config;
    this.#log = options.log;
    this.metrics = options.metrics ?? new SyncMetrics();
    this.#zone = options.zone;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#store = store;
    this.#consumer = consumer;
    this.#source = source;
    this.#outputs = new OutputSet(config.outputs, store.outputs, {
      render: config.render,
      reloadTimeoutMs: config.reloadTimeoutSeconds * 1000,
      log: this.#log,
      metrics: this.metrics,
    });
    this.#keys = new KeySetFollower({
      client: hub,
      consumer,
      store,
      pinned: options.pinned,
      log: this.#log,
      reject: (error, bytes) => this.#reject(error, bytes),
      now: this.#now,
    });
    this.#reporter = new ApplyReporter({
      client: hub,
      agentId,
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
    const limits = {
      maxBytes: config.maxBytes,
      timeoutMs: config.timeoutSeconds * 1000,
      userAgent: USER_AGENT,
      now: options.now ?? Date.now,
    };
    const hub =
      config.hub === undefined
        ? null
        : new HubClient({ ...limits, hub: config.hub, token: config.token ?? null });
    const mirror =
      config.mirror === undefined ? null : new MirrorClient({ ...limits, mirror: config.mirror });
    const source = (mirror ?? hub) as FeedSource;
    const consumer = createFeedConsumer(config.feed, trust, {
      maxBytes: config.maxBytes,
      digest: payloadDigest,
      ...(resume && { resume }),
      // Proofs are fetched only when the tree grew: equal sizes are checked without a request. A mirror's
      // come from the log tiles published beside its feeds, so the hub is not asked for anything.
      log: {
        proofs: mirror ? mirror.consistency() : hubConsistencySource(hub as HubClient),
        checkpoint: store.checkpoint,
      },
    });
    const agentId = config.agentId ?? (await store.agentId());
    const agent = new SyncAgent(options, store, consumer, source, hub, agentId);
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
    let askedSnapshot = version === null || this.#needsSnapshot;
    let fetched =
      version === null || askedSnapshot
        ? await this.#snapshot(signal)
        : await this.#source.delta(this.#config.feed, version, waitSeconds, signal);
    // Stopping interrupts a long-poll: that is no failure of the hub.
    if (signal?.aborted) return { status: 'failed', reason: 'stopped' };
    if (fetched.kind === 'resync') {
      this.#log('warn', 'resync', { version, reason: 'the hub has no delta from this version' });
      this.#needsSnapshot = true;
      askedSnapshot = true;
      fetched = await this.#snapshot(signal);
    }
    const retryAfterMs = fetched.retryAfterMs;
    switch (fetched.kind) {
      case 'current': {
        if (!askedSnapshot) {
          await this.#contacted();
          return { status: 'current', version, retryAfterMs };
        }
        const refused = this.#refusedSnapshot;
        if (refused) {
          // Downloading it again would only be refused again: the caller backs off instead.
          this.#log('warn', 'snapshot_unchanged', { rule: refused.code, etag: refused.etag });
          return { status: 'rejected', code: refused.code, retryAfterMs };
        }
        return this.#fetchFailed('http', 'the hub answered 304 to a snapshot request', retryAfterMs);
      }
      case 'artifact': {
        const outcome = await this.#applyArtifact(fetched.bytes, true);
        if (askedSnapshot) {
          this.#refusedSnapshot =
            outcome.status === 'rejected' && fetched.etag
              ? { etag: fetched.etag, code: outcome.code }
              : undefined;
        }
        if (outcome.status === 'applied') await this.#contacted();
        return { ...outcome, retryAfterMs };
      }
      case 'absent':
        return this.#fetchFailed(
          'http',
          `the hub has no feed "${this.#config.feed}" (404 on /v1/feeds/${this.#config.feed}): is --hub the hub's base URL?`,
          retryAfterMs,
        );
      case 'resync':
        return this.#fetchFailed('http', 'the hub asked for a resync on a snapshot request', retryAfterMs);
      default:
        return this.#fetchFailed(fetched.reason, fetched.message, retryAfterMs);
    }
  }

  /** The latest snapshot, unless it is still the one refused last time (then the hub answers 304). */
  #snapshot(signal: AbortSignal | undefined) {
    const refused = this.#refusedSnapshot;
    return this.#source.snapshot(this.#config.feed, { signal, ...(refused && { etag: refused.etag }) });
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
   * their own back-off meanwhile. Each wait after a failure is logged (`retry_scheduled`), and the first
   * success after failures (`recovered`) polls again at once.
   */
  async run(signal: AbortSignal): Promise<void> {
    await this.restore();
    // The first poll does not wait: it tells at once whether the hub moved on while the agent was down.
    let first = true;
    while (!signal.aborted) {
      await this.#retryOutputs();
      // Keys followed: a snapshot refused for its key may be acceptable now.
      if (await this.#keys.check(signal)) this.#refusedSnapshot = undefined;
      const started = this.#now();
      let delay: number;
      try {
        const outcome = await this.poll(first ? 0 : this.#waitSeconds(), signal);
        first = false;
        if (signal.aborted) break;
        if (outcome.status === 'applied' || outcome.status === 'current') {
          delay = this.#succeeded(outcome, started);
        } else {
          const reason = outcome.status === 'failed' ? outcome.reason : outcome.code;
          delay = this.#failed(reason, started, outcome.retryAfterMs);
        }
      } catch (error) {
        if (signal.aborted) break;
        this.#log('error', 'poll_error', { message: (error as Error).message });
        delay = this.#failed('poll_error', started, undefined);
      }
      delay = this.#outputRetries.clampDelay(delay);
      await sleep(delay, signal);
    }
  }

  /** The wait after a poll that reached the hub. */
  #succeeded(outcome: PollOutcome, started: number): number {
    const retryAfter = outcome.retryAfterMs ?? 0;
    const failing = this.#failing;
    this.#failing = undefined;
    this.#backoff.reset();
    if (failing) {
      this.#log('info', 'recovered', {
        version: this.#consumer.version,
        failures: failing.failures,
        downSeconds: Math.round((this.#now() - failing.since) / 100) / 10,
      });
      // Whatever was published meanwhile is fetched now, not after the interval.
      return retryAfter;
    }
    // A hub that does not long-poll answers at once: keep to the interval then.
    const interval =
      outcome.status === 'applied' ? 0 : started + this.#config.intervalSeconds * 1000 - this.#now();
    return Math.max(interval, retryAfter);
  }

  /**
   * The wait after a failed poll. A hub whose connections are refused at once (down, restarting) is cheap
   * to ask again: the wait then stays under {@link REFUSED_RETRY_CAP_MS}, so the agent is current seconds
   * after the hub returns. The hub's first answer after refusals starts the schedule again.
   */
  #failed(reason: string, started: number, retryAfterMs: number | undefined): number {
    const now = this.#now();
    if (this.#failing?.reason === 'network' && reason !== 'network') this.#backoff.reset();
    this.#failing = {
      since: this.#failing?.since ?? started,
      failures: (this.#failing?.failures ?? 0) + 1,
      reason,
    };
    const refusedAtOnce = reason === 'network' && now - started < REFUSED_WITHIN_MS;
    let delay = this.#backoff.fail();
    if (refusedAtOnce) delay = Math.min(delay, Math.round(REFUSED_RETRY_CAP_MS * (0.5 + this.#random() / 2)));
    delay = Math.max(delay, retryAfterMs ?? 0);
    this.#log('info', 'retry_scheduled', { delayMs: delay, failures: this.#failing.failures, reason });
    return delay;
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
    await this.#store.saveApplied(state, this.#meta, manifest.checkpoint);
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
    // A log that does not extend the one seen before is evidence against the hub, not a glitch.
    const level = (LOG_CODES as readonly string[]).includes(error.code) ? 'error' : 'warn';
    this.#log(level, 'rejected', {
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
    const version = this.#consumer.version;
    const checkpoint = this.#consumer.checkpoint;
    const enforced = checkpoint?.version === version ? summarizeCheckpoint(checkpoint) : undefined;
    return this.#reporter.send(version, this.#meta?.appliedAt, enforced);
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
