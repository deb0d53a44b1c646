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

/** Why a request failed (also the `reason` label of the agent's fetch-failure metric). */
export type FetchFailureReason = 'network' | 'timeout' | 'http' | 'unauthorized' | 'too_large';

export interface HubClientOptions {
  /** Base URL, e.g. `https://hub.example`; the `/v1/...` paths are appended. */
  hub: string | URL;
  /** Bearer token; null for a hub that serves feeds without one. */
  token: string | null;
  /** Largest artifact accepted; a larger one is refused before it is read. */
  maxBytes: number;
  /** Time allowed for a request beyond any long-poll wait. Default 120 s. */
  timeoutMs?: number;
  /** Sent as `user-agent` where the runtime lets a request set it. */
  userAgent?: string;
  now?: () => number;
}

/** The compliance report `POST /v1/distributors/report` takes. */
export interface ApplyReport {
  feed: string;
  version: number;
  appliedAt: string;
  outputs: Array<{ format: string; path: string; ok: boolean }>;
}

/** How the sync agent and `takedown feed pull` introduce themselves to the hub. */
export const USER_AGENT = 'takedown-sync/1';

export class HubClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #maxBytes: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(options: HubClientOptions) {
    this.#base = String(options.hub).replace(/\/+$/, '');
    this.#headers = {};
    if (options.token) this.#headers.authorization = `Bearer ${options.token}`;
    if (options.userAgent) this.#headers['user-agent'] = options.userAgent;
    this.#maxBytes = options.maxBytes;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
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
   * Any file under the base URL, as bytes: how a static mirror (`takedown publish` layout, see
   * mirror-client.ts) is read, with the same limits, timeouts and failure reasons as the feeds.
   */
  file(path: string, signal?: AbortSignal): Promise<FetchOutcome> {
    return this.#artifact(`/${path.replace(/^\/+/, '')}`, 0, signal);
  }

  /** The JSON of `GET /v1/explain?target=` (the entries and orders matching a URL). */
  async explain(
    target: string,
    signal?: AbortSignal,
  ): Promise<{ kind: 'json'; body: unknown } | FetchFailure> {
    const sent = await this.#request(`/v1/explain?target=${encodeURIComponent(target)}`, 0, signal, {
      headers: { accept: 'application/json' },
    });
    if ('kind' in sent) return sent;
    const { response, retryAfter } = sent;
    if (!response.ok) return httpFailure(response, await errorText(response), retryAfter);
    const body: unknown = await response.json().catch(() => null);
    return { kind: 'json', body };
  }

  /** Sends a compliance report; `failed` says why the hub did not record it. */
  async report(body: ApplyReport, signal?: AbortSignal): Promise<{ kind: 'sent' } | FetchFailure> {
    const sent = await this.#request('/v1/distributors/report', 0, signal, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if ('kind' in sent) return sent;
    const { response, retryAfter } = sent;
    if (!response.ok) return httpFailure(response, await errorText(response), retryAfter);
    await response.body?.cancel();
    return { kind: 'sent' };
  }

  async #artifact(
    path: string,
    waitMs: number,
    signal?: AbortSignal,
    headers: Record<string, string> = {},
  ): Promise<FetchOutcome> {
    const sent = await this.#request(path, waitMs, signal, {
      headers: { ...headers, accept: 'application/octet-stream' },
    });
    if ('kind' in sent) return sent;
    const { response, retryAfter } = sent;
    if (response.status === 304) return { kind: 'current', retryAfterMs: retryAfter };
    if (response.status === 200) {
      const body = await readLimited(response, this.#maxBytes);
      if (typeof body === 'string') return { kind: 'failed', reason: 'too_large', message: body };
      return { kind: 'artifact', bytes: body, etag: response.headers.get('etag'), retryAfterMs: retryAfter };
    }
    const text = await errorText(response);
    if (response.status === 410 || errorCode(text) === 'resync_required') {
      return { kind: 'resync', retryAfterMs: retryAfter };
    }
    if (response.status === 404) return { kind: 'absent', retryAfterMs: retryAfter };
    return httpFailure(response, text, retryAfter);
  }

  async #request(
    path: string,
    waitMs: number,
    signal: AbortSignal | undefined,
    init: RequestInit,
  ): Promise<{ response: Response; retryAfter: number | undefined } | FetchFailure> {
    const timeout = AbortSignal.timeout(waitMs + this.#timeoutMs);
    const url = this.#base + path;
    const where = path.split('?')[0];
    try {
      const response = await fetch(url, {
        ...init,
        headers: { ...init.headers, ...this.#headers },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      return { response, retryAfter: retryAfterMs(response.headers.get('retry-after'), this.#now()) };
    } catch (error) {
      if (timeout.aborted) {
        return {
          kind: 'failed',
          reason: 'timeout',
          message: `${where}: no answer within ${waitMs + this.#timeoutMs} ms`,
        };
      }
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      const detail = (cause ?? (error as Error).message).slice(0, 200);
      return { kind: 'failed', reason: 'network', message: `${where}: ${detail}` };
    }
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

/** The body, or a message when it exceeds `maxBytes` (checked before reading when the length is announced). */
async function readLimited(response: Response, maxBytes: number): Promise<Uint8Array | string> {
  const announced = Number(response.headers.get('content-length') ?? Number.NaN);
  const tooLarge = (size: number) => `artifact of ${size} bytes exceeds the ${maxBytes} byte limit`;
  if (announced > maxBytes) {
    await response.body?.cancel();
    return tooLarge(announced);
  }
  if (!response.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.length;
    if (size > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      return tooLarge(size);
    }
    chunks.push(chunk);
  }
  return concatBytes(chunks);
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
