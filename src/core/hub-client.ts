import { announcedLengthOf } from './artifact.ts';
import { concatBytes } from './bytes.ts';

/**
 * The one client of the hub's feed protocol, for the sync agent, `takedown feed pull` and the edge
 * worker (fetch only, so it runs in workerd). Nothing it returns is trusted: artifacts are bytes for the
 * consumer library to verify. Every answer carries the server's `Retry-After`, if any, as a minimum
 * wait. Messages name the path, never the hub's address or the token.
 */

/** What one fetch produced. */
export type FetchOutcome =
  | { kind: 'artifact'; bytes: Uint8Array; etag: string | null; retryAfterMs?: number }
  /** 304: the caller holds the latest version (or the snapshot of the ETag it sent). */
  | { kind: 'current'; retryAfterMs?: number }
  /** The hub has no delta from the caller's version (410, or 409 `resync_required`): fetch a snapshot. */
  | { kind: 'resync'; retryAfterMs?: number }
  /** 404: no such feed, or (for key sets) a hub that publishes none. */
  | { kind: 'absent'; retryAfterMs?: number }
  | FetchFailure;

export type FetchFailure = {
  kind: 'failed';
  reason: FetchFailureReason;
  message: string;
  retryAfterMs?: number;
};

/**
 * Why a request failed (also the `reason` label of the agent's fetch-failure metric); `mirror_behind`: a
 * static mirror lists an older version than the one applied (mirror-client.ts).
 */
export type FetchFailureReason =
  | 'network'
  | 'timeout'
  | 'http'
  | 'unauthorized'
  | 'too_large'
  | 'mirror_behind';

export interface HubClientOptions {
  /** Base URL, e.g. `https://hub.example`; the `/v1/...` paths are appended. */
  hub: string | URL;
  /** Bearer token; null for a hub that serves feeds without one. */
  token: string | null;
  /** Largest artifact accepted; a larger one is refused before it is read. */
  maxBytes: number;
  /**
   * The deadline of one request, headers and body together, beyond any long-poll wait. Default 120 s.
   * A large body earns more time only as fast as its bytes arrive at `minBytesPerSecond`.
   */
  timeoutMs?: number;
  /** Every byte received pushes the deadline back by 1/this seconds. Default 128 KiB/s. */
  minBytesPerSecond?: number;
  /** Sent as `user-agent` where the runtime lets a request set it. */
  userAgent?: string;
  now?: () => number;
}

/** What an agent id may be (a UUID, a host name, a short label): one compliance row per id and token. */
export const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** The compliance report `POST /v1/distributors/report` takes. */
export interface ApplyReport {
  /** Which agent of the token reports; absent: one row for the whole token. */
  agentId?: string;
  feed: string;
  version: number;
  appliedAt: string;
  outputs: Array<{ format: string; path: string; ok: boolean }>;
  /** The transparency log checkpoint of `version` the agent enforces (absent before it holds one). */
  checkpoint?: { version: number; treeSize: number; rootHash: string };
}

/** How the sync agent and `takedown feed pull` introduce themselves to the hub. */
export const USER_AGENT = 'takedown-sync/1';

/** The deadline of a request unless the caller sets one: covers the headers and the body. */
export const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_MIN_BYTES_PER_SECOND = 128 * 1024;

export class HubClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #maxBytes: number;
  readonly #timeoutMs: number;
  readonly #minRate: number;
  readonly #now: () => number;
  /**
   * The deadlines of requests in flight. Their timers are held here, by the client, and not only by an
   * abort signal: a timer reachable only through a combined signal can be garbage-collected and never fire.
   */
  readonly #deadlines = new Set<Deadline>();

  constructor(options: HubClientOptions) {
    this.#base = String(options.hub).replace(/\/+$/, '');
    this.#headers = {};
    if (options.token) this.#headers.authorization = `Bearer ${options.token}`;
    if (options.userAgent) this.#headers['user-agent'] = options.userAgent;
    this.#maxBytes = options.maxBytes;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#minRate = options.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND;
    this.#now = options.now ?? Date.now;
  }

  /** The latest snapshot of `feed`; `current` when it is still the one whose ETag is given. */
  snapshot(feed: string, options: { signal?: AbortSignal; etag?: string } = {}): Promise<FetchOutcome> {
    const headers: Record<string, string> = options.etag ? { 'if-none-match': options.etag } : {};
    return this.#artifact(`/v1/feeds/${feed}/snapshot`, 0, options.signal, headers);
  }

  /** The delta from `since` to the latest version, waiting up to `waitSeconds` for one to exist. */
  delta(feed: string, since: number, waitSeconds = 0, signal?: AbortSignal): Promise<FetchOutcome> {
    const query = `since=${since}${waitSeconds > 0 ? `&wait=${waitSeconds}` : ''}`;
    return this.#artifact(`/v1/feeds/${feed}/delta?${query}`, waitSeconds * 1000, signal);
  }

  /**
   * The latest key set (`GET /v1/keys/keyset`, key rotation), or the one of `version`; `absent` before the
   * first rotation.
   */
  keySet(signal?: AbortSignal, version?: number): Promise<FetchOutcome> {
    return this.#artifact(`/v1/keys/keyset${version === undefined ? '' : `?version=${version}`}`, 0, signal);
  }

  /**
   * Any file under the base URL, as bytes: how a static mirror (mirror-client.ts) is read, with the same
   * limits, deadlines and failure reasons as the feeds.
   */
  file(path: string, signal?: AbortSignal): Promise<FetchOutcome> {
    return this.#artifact(`/${path.replace(/^\/+/, '')}`, 0, signal);
  }

  /** The JSON of `GET /v1/explain?target=` (the entries and orders matching a URL). */
  explain(target: string, signal?: AbortSignal): Promise<{ kind: 'json'; body: unknown } | FetchFailure> {
    return this.#json(`/v1/explain?target=${encodeURIComponent(target)}`, signal);
  }

  #json(path: string, signal?: AbortSignal): Promise<{ kind: 'json'; body: unknown } | FetchFailure> {
    const init = { headers: { accept: 'application/json' } };
    return this.#exchange(path, 0, signal, init, async (response, retryAfter) => {
      if (!response.ok) return httpFailure(response, await errorText(response), retryAfter);
      const body: unknown = await response.json().catch(() => null);
      return { kind: 'json', body };
    });
  }

  /**
   * The JSON of `GET /v1/log/proof/consistency?from=&to=` (registry versions): the proof that the log of
   * version `to` extends the one of version `from`. Nothing in it is trusted (see log-consistency.ts).
   */
  consistencyProof(
    from: number,
    to: number,
    signal?: AbortSignal,
  ): Promise<{ kind: 'json'; body: unknown } | FetchFailure> {
    return this.#json(`/v1/log/proof/consistency?from=${from}&to=${to}`, signal);
  }

  /** Sends a compliance report; `failed` says why the hub did not record it. */
  async report(body: ApplyReport, signal?: AbortSignal): Promise<{ kind: 'sent' } | FetchFailure> {
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    };
    return this.#exchange('/v1/distributors/report', 0, signal, init, async (response, retryAfter) => {
      if (!response.ok) return httpFailure(response, await errorText(response), retryAfter);
      await response.body?.cancel();
      return { kind: 'sent' as const };
    });
  }

  #artifact(
    path: string,
    waitMs: number,
    signal?: AbortSignal,
    headers: Record<string, string> = {},
  ): Promise<FetchOutcome> {
    const init = { headers: { ...headers, accept: 'application/octet-stream' } };
    return this.#exchange(
      path,
      waitMs,
      signal,
      init,
      async (response, retryAfter, deadline): Promise<FetchOutcome> => {
        if (response.status === 304) return { kind: 'current', retryAfterMs: retryAfter };
        if (response.status === 200) {
          const body = await readLimited(response, this.#maxBytes, (n) => deadline.received(n));
          if (typeof body === 'string') return { kind: 'failed', reason: 'too_large', message: body };
          return {
            kind: 'artifact',
            bytes: body,
            etag: response.headers.get('etag'),
            retryAfterMs: retryAfter,
          };
        }
        const text = await errorText(response);
        if (response.status === 410 || errorCode(text) === 'resync_required') {
          return { kind: 'resync', retryAfterMs: retryAfter };
        }
        if (response.status === 404) return { kind: 'absent', retryAfterMs: retryAfter };
        return httpFailure(response, text, retryAfter);
      },
    );
  }

  /**
   * One request and the reading of its answer by `read`, both under one deadline: a hub or proxy that
   * stalls before the headers, after them, or trickles the body is given up on when it passes.
   */
  async #exchange<T>(
    path: string,
    waitMs: number,
    signal: AbortSignal | undefined,
    init: RequestInit,
    read: (response: Response, retryAfter: number | undefined, deadline: Deadline) => Promise<T>,
  ): Promise<T | FetchFailure> {
    const where = path.split('?')[0] as string;
    const deadline = new Deadline(waitMs + this.#timeoutMs, this.#minRate, where);
    this.#deadlines.add(deadline);
    const stop = () => deadline.controller.abort(signal?.reason);
    signal?.addEventListener('abort', stop);
    try {
      if (signal?.aborted) stop();
      const response = await fetch(this.#base + path, {
        ...init,
        headers: { ...init.headers, ...this.#headers },
        signal: deadline.controller.signal,
      });
      deadline.headersArrived();
      const retryAfter = retryAfterMs(response.headers.get('retry-after'), this.#now());
      const value = await read(response, retryAfter, deadline);
      // A reader that swallowed the abort (an error body read as '') still ran out of time.
      return deadline.expired ? deadline.failure() : value;
    } catch (error) {
      if (deadline.expired) return deadline.failure();
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      const detail = (cause ?? (error as Error).message).slice(0, 200);
      return { kind: 'failed', reason: 'network', message: `${where}: ${detail}` };
    } finally {
      deadline.clear();
      this.#deadlines.delete(deadline);
      signal?.removeEventListener('abort', stop);
    }
  }
}

/**
 * The deadline of one request: aborts its controller when it passes. It starts at `budgetMs`; each byte of
 * the body pushes it back by 1/`minRate` s, so a large body moving at least that fast never runs out, and
 * a trickle or a stall runs out at once.
 */
class Deadline {
  readonly controller = new AbortController();
  #expired = false;
  #bytes = 0;
  #headers = false;
  readonly #start = Date.now();
  readonly #budgetMs: number;
  readonly #minRate: number;
  readonly #where: string;
  #timer: ReturnType<typeof setTimeout>;

  constructor(budgetMs: number, minRate: number, where: string) {
    this.#budgetMs = budgetMs;
    this.#minRate = minRate;
    this.#where = where;
    this.#timer = setTimeout(() => this.#check(), budgetMs);
  }

  get expired(): boolean {
    return this.#expired;
  }

  headersArrived(): void {
    this.#headers = true;
  }

  /** `count` more bytes of the body arrived. */
  received(count: number): void {
    this.#bytes += count;
  }

  clear(): void {
    clearTimeout(this.#timer);
  }

  failure(): FetchFailure {
    const seconds = Math.round((Date.now() - this.#start) / 100) / 10;
    const message = this.#headers
      ? `${this.#where}: the body stalled: ${this.#bytes} bytes in ${seconds} s (deadline ${this.#budgetMs} ms, then ${this.#minRate} bytes/s)`
      : `${this.#where}: no answer within ${this.#budgetMs} ms`;
    return { kind: 'failed', reason: 'timeout', message };
  }

  #at(): number {
    return this.#start + this.#budgetMs + (this.#bytes * 1000) / this.#minRate;
  }

  #check(): void {
    const left = this.#at() - Date.now();
    if (left > 0) {
      this.#timer = setTimeout(() => this.#check(), left);
      return;
    }
    this.#expired = true;
    this.controller.abort(new Error(`deadline of ${this.#where} passed`));
  }
}

/**
 * Refusals after which the consumer's state may simply not be the base of what it was offered (a gap, a
 * delta of another branch, a payload it cannot decode): only a fresh snapshot helps. Every consumer of
 * the feeds follows this one rule.
 */
export function needsSnapshot(code: string): boolean {
  return SNAPSHOT_CODES.has(code);
}

const SNAPSHOT_CODES = new Set([
  'gap',
  'resync_required',
  'entry_count_mismatch',
  'checksum_mismatch',
  'bad_payload',
]);

/**
 * The wait a `Retry-After` header asks for (RFC 9110: delay seconds or an HTTP date), in ms from
 * `now`; undefined when absent or unreadable. Capped at an hour so a wrong header cannot park a client.
 */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  // Every HTTP-date form starts with a day name; anything else (`-5`, `soon`) is unreadable.
  const ms = /^\d+$/.test(text)
    ? Number(text) * 1000
    : /^[A-Za-z]/.test(text)
      ? Date.parse(text) - now
      : Number.NaN;
  if (Number.isNaN(ms)) return undefined;
  return Math.min(Math.max(0, ms), 3_600_000);
}

/**
 * The body, decoded (a gzip body counts by what it expands to), or a message when it exceeds `maxBytes`
 * (checked before reading when the length is announced). `progress` hears of every chunk.
 */
async function readLimited(
  response: Response,
  maxBytes: number,
  progress: (bytes: number) => void,
): Promise<Uint8Array | string> {
  const announced = Number(response.headers.get('content-length') ?? Number.NaN);
  const tooLarge = (size: number) => `artifact of ${size} bytes exceeds the ${maxBytes} byte limit`;
  if (announced > maxBytes) {
    await response.body?.cancel();
    return tooLarge(announced);
  }
  if (!response.body) return new Uint8Array(0);
  // An announced length of what arrives (no content coding) is filled in place: a large artifact is then
  // held once, not as its chunks plus their concatenation. A gzip body is sized by the artifact header it
  // expands to.
  const exact = Number.isSafeInteger(announced) && !response.headers.get('content-encoding');
  let whole = exact ? new Uint8Array(announced) : undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  let filled = 0;
  for await (const chunk of response.body) {
    progress(chunk.length);
    if (size + chunk.length > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      return tooLarge(size + chunk.length);
    }
    if (size === 0 && !whole) {
      const expected = announcedLengthOf(chunk);
      if (expected !== undefined && expected >= chunk.length && expected <= maxBytes)
        whole = new Uint8Array(expected);
    }
    if (whole && chunks.length === 0 && size + chunk.length <= whole.length) {
      whole.set(chunk, size);
      filled = size + chunk.length;
    } else {
      chunks.push(chunk);
    }
    size += chunk.length;
  }
  if (!whole) return concatBytes(chunks);
  // A body longer than announced keeps every byte, so the artifact's own length check speaks.
  const held = whole.subarray(0, filled);
  return chunks.length === 0 ? held : concatBytes([held, ...chunks]);
}

async function errorText(response: Response): Promise<string> {
  return (await response.text().catch(() => '')).slice(0, 2_000);
}

/** The `error.code` of the hub's error envelope, if the text is one. */
function errorCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

function httpFailure(response: Response, text: string, retryAfter: number | undefined): FetchFailure {
  let detail = text.trim();
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string') detail = message;
  } catch {
    // Not the hub's envelope (a proxy's page): keep the text.
  }
  const reason = response.status === 401 || response.status === 403 ? 'unauthorized' : 'http';
  return {
    kind: 'failed',
    reason,
    message: `${URL.canParse(response.url) ? new URL(response.url).pathname : 'hub'}: HTTP ${response.status}${detail ? `: ${detail.slice(0, 300)}` : ''}`,
    retryAfterMs: retryAfter,
  };
}
