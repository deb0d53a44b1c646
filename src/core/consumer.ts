/**
 * The consumer side of a feed, shared by the sync agent and the edge worker: it holds the last good
 * state and moves it forward only with artifacts that pass every rule. An update is built as a new
 * state and swapped in only after it checked out, so a refused artifact leaves nothing half-applied.
 */
import { KEYS_FEED, type Manifest } from './artifact.ts';
import { FilterState } from './filter-state.ts';
import type { PublicKey } from './keys.ts';
import { followKeySet, type KeyRing, pinnedKeys } from './keyset.ts';
import { type ConsistencySource, checkLogAdvance, type HeldCheckpoint } from './log-consistency.ts';
import { PlainState } from './plain-state.ts';
import { type FeedName, fail, ok, type Result } from './types.ts';
import { type PayloadDigest, verifyArtifact, verifyResultingState } from './verify.ts';

/** What a feed state offers the consumer; `PlainState` and `FilterState` both are one. */
export interface FeedState<S> {
  readonly entryCount: number;
  /** True for a state without a member set to checksum; only its entry count is then checked. */
  readonly lean?: boolean;
  checksum(): Promise<string>;
  applyDelta(payload: Uint8Array): Result<S>;
  isBlocked(expressions: readonly string[]): boolean;
}

/** A state saved by an earlier run, to resume from instead of a fresh snapshot. */
export interface SavedState<S> {
  version: number;
  state: S;
  expiresAt: number;
}

export interface FeedConsumerOptions<S> {
  feed: string;
  /** Builds the state a snapshot payload holds. */
  fromSnapshot: (payload: Uint8Array) => Result<S>;
  /** Pinned keys, or the key ring a followed key set established. */
  trust: KeyRing | readonly PublicKey[];
  resume?: SavedState<S>;
  maxBytes?: number;
  /** The payload's SHA-256 (verify.ts); default WebCrypto's. */
  digest?: PayloadDigest;
  /** Follow the transparency log: every artifact's checkpoint must extend the held one. */
  log?: LogFollowing;
}

/**
 * How a consumer follows the transparency log: where consistency proofs come from, and the checkpoint it
 * held before (saved by an earlier run, or kept across a reload: held even without a state).
 */
export interface LogFollowing {
  proofs: ConsistencySource;
  checkpoint?: HeldCheckpoint | null;
}

/** What an accepted artifact did. */
export interface AppliedArtifact {
  kind: Manifest['kind'];
  from: number;
  to: number;
  entryCount: number;
  checksum: string;
  createdAt: number;
  expiresAt: number;
  /** The verified payload that made the state (a delta's changes, for consumers that replay them). */
  payload: Uint8Array;
  /** The checkpoint held after it (null while the consumer follows no log or has seen no checkpoint). */
  checkpoint: HeldCheckpoint | null;
}

/** One feed's verified state. */
export class FeedConsumer<S extends FeedState<S>> {
  readonly feed: string;
  readonly #fromSnapshot: (payload: Uint8Array) => Result<S>;
  readonly #maxBytes: number | undefined;
  readonly #digest: PayloadDigest | undefined;
  #trust: KeyRing;
  #current: SavedState<S> | undefined;
  readonly #proofs: ConsistencySource | undefined;
  #checkpoint: HeldCheckpoint | null;
  /** Updates run one after another: each one verifies against the state the previous one left. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: FeedConsumerOptions<S>) {
    if (options.feed === KEYS_FEED) throw new Error(`feed "${KEYS_FEED}" carries key sets, use followKeySet`);
    this.feed = options.feed;
    this.#fromSnapshot = options.fromSnapshot;
    this.#maxBytes = options.maxBytes;
    this.#digest = options.digest;
    this.#trust = 'version' in options.trust ? options.trust : pinnedKeys(options.trust);
    this.#current = options.resume;
    this.#proofs = options.log?.proofs;
    this.#checkpoint = options.log?.checkpoint ?? null;
  }

  /**
   * The newest transparency-log checkpoint verified (normally the applied version's); null before one, or
   * when the consumer follows no log.
   */
  get checkpoint(): HeldCheckpoint | null {
    return this.#checkpoint;
  }

  /** The applied version; `null` before the first snapshot. */
  get version(): number | null {
    return this.#current?.version ?? null;
  }

  get state(): S | null {
    return this.#current?.state ?? null;
  }

  /** When the manifest of the applied state expires (ms since the epoch); `null` before the first snapshot. */
  get expiresAt(): number | null {
    return this.#current?.expiresAt ?? null;
  }

  get trust(): KeyRing {
    return this.#trust;
  }

  /**
   * Whether the state is still vouched for at `now`. A consumer that stops getting updates (a frozen
   * or withheld feed) sees this turn false and decides to fail open or closed.
   */
  isFresh(now: number): boolean {
    return this.#current !== undefined && now <= this.#current.expiresAt;
  }

  /**
   * Verifies an artifact and applies it; on any failure the previous state stays and the code says why.
   * The artifact is handed over: a state built from it may keep views of `bytes`, so they must not change.
   */
  apply(bytes: Uint8Array, now: number): Promise<Result<AppliedArtifact>> {
    return this.#serially(() => this.#apply(bytes, now));
  }

  /** Follows a key-set artifact signed by a trusted key; later artifacts must be signed by its keys. */
  followKeySet(bytes: Uint8Array, now: number): Promise<Result<KeyRing>> {
    return this.#serially(async () => {
      const next = await followKeySet(this.#trust, bytes, now);
      if (next.ok) this.#trust = next.value;
      return next;
    });
  }

  async #apply(bytes: Uint8Array, now: number): Promise<Result<AppliedArtifact>> {
    const verified = await verifyArtifact(bytes, {
      trustedKeys: this.#trust.keys,
      feed: this.feed,
      appliedVersion: this.version,
      now,
      maxBytes: this.#maxBytes,
      digest: this.#digest,
    });
    if (!verified.ok) return verified;
    const { manifest, payload } = verified.value;
    // Before anything of the payload is used: a fork of the log is refused even if its list looks right.
    let checkpoint = this.#checkpoint;
    if (this.#proofs) {
      const advanced = await checkLogAdvance(
        checkpoint,
        manifest.checkpoint,
        manifest.to,
        this.#trust.keys,
        this.#proofs,
      );
      if (!advanced.ok) return advanced;
      checkpoint = advanced.value;
    }
    const base = this.#current?.state;
    if (manifest.kind === 'delta' && !base) return fail('gap', 'a delta needs a state to apply to');
    const next = manifest.kind === 'snapshot' ? this.#fromSnapshot(payload) : (base as S).applyDelta(payload);
    if (!next.ok) return next;
    const state = next.value;
    const matches = await verifyResultingState(
      manifest,
      state.lean ? { entryCount: state.entryCount } : state,
    );
    if (!matches.ok) return matches;
    this.#current = { version: manifest.to, state, expiresAt: manifest.expiresAt };
    this.#checkpoint = checkpoint;
    const { kind, from, to, entryCount, checksum, createdAt, expiresAt } = manifest;
    return ok({ kind, from, to, entryCount, checksum, createdAt, expiresAt, payload, checkpoint });
  }

  #serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

export interface CreateOptions<S> {
  resume?: SavedState<S>;
  maxBytes?: number;
  digest?: PayloadDigest;
  /** `filter` only: keep no key set (see `FilterState`); the state checksum is then not checked. */
  lean?: boolean;
  log?: LogFollowing;
}

/** A consumer of `feed` trusting `trust`: plain state for `dns` and `url`, hashed for `filter`. */
export function createFeedConsumer(
  feed: 'dns' | 'url',
  trust: KeyRing | readonly PublicKey[],
  options?: CreateOptions<PlainState>,
): FeedConsumer<PlainState>;
export function createFeedConsumer(
  feed: 'filter',
  trust: KeyRing | readonly PublicKey[],
  options?: CreateOptions<FilterState>,
): FeedConsumer<FilterState>;
export function createFeedConsumer(
  feed: FeedName,
  trust: KeyRing | readonly PublicKey[],
  options: CreateOptions<PlainState> | CreateOptions<FilterState> = {},
): FeedConsumer<PlainState> | FeedConsumer<FilterState> {
  const { lean, resume, maxBytes, digest, log } = options;
  if (feed === 'filter') {
    const fromSnapshot = (payload: Uint8Array) => FilterState.fromSnapshot(payload, { lean: lean === true });
    return new FeedConsumer({
      feed,
      fromSnapshot,
      trust,
      resume: resume as SavedState<FilterState>,
      maxBytes,
      digest,
      log,
    });
  }
  // The payload is a view of the artifact handed over to `apply`: the state keeps it instead of a copy.
  const fromSnapshot = (payload: Uint8Array) => PlainState.fromSnapshot(payload, 'adopt');
  const plain = resume as SavedState<PlainState>;
  return new FeedConsumer({ feed, fromSnapshot, trust, resume: plain, maxBytes, digest, log });
}
