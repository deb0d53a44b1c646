/**
 * The feed client of a static mirror: the `takedown publish` layout (static-layout.ts) served by any HTTP
 * server, CDN or bucket, so thousands of ISPs pull from a CDN and the hub only signs. It answers like the
 * hub's client (snapshot, delta) with the same signed artifacts, which the consumer verifies exactly as it
 * verifies the hub's, and its consistency proofs come from the log tiles published beside them. index.json
 * is not signed: it only says which file to fetch, and a lying one can only get an artifact refused.
 */
import { type FetchFailure, type FetchOutcome, HubClient } from './hub-client.ts';
import { type ConsistencySource, publishedTilesSource } from './log-consistency.ts';
import { sleep } from './sleep.ts';
import { type FeedIndex, feedEntry, parseStaticIndex, STATIC_INDEX_NAME } from './static-layout.ts';

export interface MirrorClientOptions {
  /** Base URL of the published directory (where index.json is). */
  mirror: string | URL;
  maxBytes: number;
  timeoutMs?: number;
  userAgent?: string;
  /** How often index.json is read again while a delta request waits (default 5 s). */
  pollMs?: number;
  now?: () => number;
}

/** What the sync agent asks of the source of its feed: the hub's client or a mirror's. */
export type FeedSource = Pick<HubClient, 'snapshot' | 'delta'>;

const decoder = new TextDecoder();
const DEFAULT_POLL_MS = 5_000;

export class MirrorClient implements FeedSource {
  readonly #files: HubClient;
  readonly #pollMs: number;
  readonly #now: () => number;

  constructor(options: MirrorClientOptions) {
    const { mirror, pollMs, ...limits } = options;
    this.#files = new HubClient({ ...limits, hub: mirror, token: null });
    this.#pollMs = pollMs ?? DEFAULT_POLL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** The snapshot index.json lists; `current` when its path is the ETag given (artifact names are unique). */
  async snapshot(feed: string, options: { signal?: AbortSignal; etag?: string } = {}): Promise<FetchOutcome> {
    const entry = await this.#feed(feed, options.signal);
    if ('kind' in entry) return entry;
    const { path } = entry.snapshot;
    if (options.etag === `"${path}"`) return { kind: 'current' };
    const fetched = await this.#listed(path, options.signal);
    return fetched.kind === 'artifact' ? { ...fetched, etag: `"${path}"` } : fetched;
  }

  /**
   * The delta from `since` index.json lists, once it lists a version past `since`. A mirror cannot hold a
   * request open: index.json is read again every `pollMs` until `waitSeconds` have passed.
   */
  async delta(feed: string, since: number, waitSeconds = 0, signal?: AbortSignal): Promise<FetchOutcome> {
    const deadline = this.#now() + waitSeconds * 1000;
    for (;;) {
      const entry = await this.#feed(feed, signal);
      if ('kind' in entry) return entry;
      if (entry.version > since) return this.#deltaFrom(entry, since, signal);
      if (entry.version < since) {
        // The hub answers "resync" here; a mirror behind is a stale cache or a rolled-back copy, and its
        // older snapshot would only be refused: the applied state stays until the mirror catches up.
        return failure(
          'mirror_behind',
          `${STATIC_INDEX_NAME} is at version ${entry.version}, behind the applied version ${since} (a stale cache or a rolled-back mirror)`,
        );
      }
      const left = deadline - this.#now();
      if (left <= 0 || signal?.aborted) return { kind: 'current' };
      await sleep(Math.min(left, this.#pollMs), signal);
    }
  }

  /** Consistency proofs from the log tiles published beside the feeds (`log/`). */
  consistency(): ConsistencySource {
    return publishedTilesSource(async (path) => {
      const fetched = await this.#files.file(path);
      return fetched.kind === 'artifact' ? fetched.bytes : null;
    });
  }

  async #deltaFrom(entry: FeedIndex, since: number, signal?: AbortSignal): Promise<FetchOutcome> {
    const delta = entry.deltas.find((d) => d?.from === since && typeof d.path === 'string');
    if (delta) return this.#listed(delta.path, signal);
    if (entry.snapshot.version > since) return { kind: 'resync' };
    return failure(
      'http',
      `${STATIC_INDEX_NAME} lists no delta from version ${since} and its snapshot (version ${entry.snapshot.version}) does not go past it: publish to this mirror from the directory that holds the previous index.json`,
    );
  }

  /** The feed's entry of index.json, or why there is none. */
  async #feed(feed: string, signal?: AbortSignal): Promise<FeedIndex | FetchFailure> {
    const fetched = await this.#files.file(STATIC_INDEX_NAME, signal);
    if (fetched.kind === 'failed') return fetched;
    if (fetched.kind !== 'artifact') {
      return failure(
        'http',
        `${STATIC_INDEX_NAME} is not on the mirror: give the URL of the directory \`takedown publish\` wrote`,
      );
    }
    const index = parseStaticIndex(decoder.decode(fetched.bytes));
    if (index === null) return failure('http', `${STATIC_INDEX_NAME} is not a takedown-static/1 index`);
    return feedEntry(index, feed) ?? failure('http', `${STATIC_INDEX_NAME} lists no feed "${feed}"`);
  }

  /**
   * A file index.json lists. One the server lacks means the index is newer than the files (an upload in
   * progress, a CDN between updates): a failure to retry, not "no such feed".
   */
  async #listed(path: string, signal?: AbortSignal): Promise<FetchOutcome> {
    const fetched = await this.#files.file(path, signal);
    if (fetched.kind === 'artifact' || fetched.kind === 'failed') return fetched;
    return failure('http', `${path}: listed in ${STATIC_INDEX_NAME}, not on the mirror (yet)`);
  }
}

const failure = (reason: FetchFailure['reason'], message: string): FetchFailure => ({
  kind: 'failed',
  reason,
  message,
});
