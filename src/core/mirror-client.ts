/**
 * The feed client of a static mirror: the `takedown publish` layout (static-layout.ts) served by any
 * HTTP server, CDN or bucket, so thousands of ISPs pull from a CDN and the hub only signs. It answers
 * like the hub's client (snapshot, delta, key set) and hands back the same signed artifacts, which the
 * consumer verifies exactly as it verifies the hub's. A mirror cannot hold a request open, so a delta
 * request re-reads index.json every `pollMs` until its wait ends.
 */
import { type FetchOutcome, HubClient } from './hub-client.ts';
import { type FeedIndex, STATIC_FORMAT, STATIC_INDEX_NAME } from './static-layout.ts';

export interface MirrorClientOptions {
  /** Base URL of the published directory (where index.json is). */
  mirror: string | URL;
  maxBytes: number;
  timeoutMs?: number;
  userAgent?: string;
  /** How often index.json is re-read while a delta request waits (default 5 s). */
  pollMs?: number;
  now?: () => number;
}

/** What the sync agent asks of a feed source: the hub's client or a mirror's. */
export type FeedSource = Pick<HubClient, 'snapshot' | 'delta' | 'keySet'>;

const decoder = new TextDecoder();

export class MirrorClient implements FeedSource {
  readonly #files: HubClient;
  readonly #pollMs: number;
  readonly #now: () => number;

  constructor(options: MirrorClientOptions) {
    this.#files = new HubClient({ ...options, hub: options.mirror, token: null });
    this.#pollMs = options.pollMs ?? 5000;
    this.#now = options.now ?? Date.now;
  }

  /** The snapshot index.json lists; `current` when its path is the ETag given (the file names are unique). */
  async snapshot(feed: string, options: { signal?: AbortSignal; etag?: string } = {}): Promise<FetchOutcome> {
    const index = await this.#feed(feed, options.signal);
    if ('kind' in index) return index;
    const { path } = index.snapshot;
    if (options.etag === `"${path}"`) return { kind: 'current' };
    const fetched = await this.#files.file(path, options.signal);
    return fetched.kind === 'artifact' ? { ...fetched, etag: `"${path}"` } : missingIsStale(fetched);
  }

  /** The delta from `since` the index lists, once the index is past `since` (waiting up to `waitSeconds`). */
  async delta(feed: string, since: number, waitSeconds = 0, signal?: AbortSignal): Promise<FetchOutcome> {
    const deadline = this.#now() + waitSeconds * 1000;
    for (;;) {
      const index = await this.#feed(feed, signal);
      if ('kind' in index) return index;
      if (index.version > since) {
        const delta = index.deltas.find((d) => d.from === since && d.to === index.version);
        if (!delta) return { kind: 'resync' };
        return missingIsStale(await this.#files.file(delta.path, signal));
      }
      const left = deadline - this.#now();
      if (left <= 0 || signal?.aborted) return { kind: 'current' };
      await sleep(Math.min(left, this.#pollMs), signal);
    }
  }

  /** The published layout carries no key set: keys rotate through the pinned key file. */
  keySet(): Promise<FetchOutcome> {
    return Promise.resolve({ kind: 'absent' });
  }

  async #feed(
    feed: string,
    signal?: AbortSignal,
  ): Promise<FeedIndex | Exclude<FetchOutcome, { kind: 'artifact' }>> {
    const fetched = await this.#files.file(STATIC_INDEX_NAME, signal);
    if (fetched.kind !== 'artifact') {
      return fetched.kind === 'absent' || fetched.kind === 'current' || fetched.kind === 'resync'
        ? { kind: 'failed', reason: 'http', message: `${STATIC_INDEX_NAME}: not found on the mirror` }
        : fetched;
    }
    let index: { format?: unknown; feeds?: Record<string, FeedIndex | undefined> };
    try {
      index = JSON.parse(decoder.decode(fetched.bytes));
    } catch {
      return { kind: 'failed', reason: 'http', message: `${STATIC_INDEX_NAME}: not JSON` };
    }
    if (index?.format !== STATIC_FORMAT)
      return {
        kind: 'failed',
        reason: 'http',
        message: `${STATIC_INDEX_NAME}: not a ${STATIC_FORMAT} index`,
      };
    const entry = index.feeds?.[feed];
    if (!entry) return { kind: 'absent' };
    if (
      !Number.isSafeInteger(entry.version) ||
      typeof entry.snapshot?.path !== 'string' ||
      !Array.isArray(entry.deltas)
    )
      return { kind: 'failed', reason: 'http', message: `${STATIC_INDEX_NAME}: feed ${feed} is malformed` };
    return entry;
  }
}

/**
 * A file index.json lists but the server lacks: the index is newer than the files (a publish or a CDN
 * cache between updates), a transient failure to retry rather than "no such feed".
 */
function missingIsStale(fetched: FetchOutcome): FetchOutcome {
  return fetched.kind === 'absent'
    ? { kind: 'failed', reason: 'http', message: 'an artifact index.json lists is missing on the mirror' }
    : fetched;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
