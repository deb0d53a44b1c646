import { concatBytes } from '../../core/bytes.ts';
import { retryAfterMs } from './backoff.ts';

/**
 * The agent's side of the hub's feed API. Nothing it returns is trusted: artifacts are bytes for the
 * consumer library to verify. Every answer carries the server's `Retry-After`, if any, as a minimum wait.
 */

/** What one fetch produced. */
export type FetchOutcome =
  | { kind: 'artifact'; bytes: Uint8Array; retryAfterMs?: number }
  /** 304: the agent holds the latest version. */
  | { kind: 'current'; retryAfterMs?: number }
  /** The hub no longer has deltas from the agent's version: fetch a snapshot. */
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

/** Why a request failed, as the `reason` label of the agent's fetch-failure metric. */
export type FetchFailureReason = 'network' | 'timeout' | 'http' | 'unauthorized' | 'too_large';

export interface HubClientOptions {
  /** Base URL, e.g. `https://hub.example`; the `/v1/...` paths are appended. */
  hub: string;
  token: string;
  /** Largest artifact accepted; a larger one is refused before it is read. */
  maxBytes: number;
  /** Time allowed for a request beyond any long-poll wait. Default 120 s. */
  timeoutMs?: number;
  now?: () => number;
}

/** The compliance report `POST /v1/distributors/report` takes. */
export interface ApplyReport {
  feed: string;
  version: number;
  appliedAt: string;
  outputs: Array<{ format: string; path: string; ok: boolean }>;
}

const USER_AGENT = 'takedown-sync/1';

export class HubClient {
  readonly #base: string;
  readonly #token: string;
  readonly #maxBytes: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(options: HubClientOptions) {
    this.#base = options.hub.replace(/\/+$/, '');
    this.#token = options.token;
    this.#maxBytes = options.maxBytes;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#now = options.now ?? Date.now;
  }

  /** The latest snapshot of `feed`. */
  snapshot(feed: string, signal?: AbortSignal): Promise<FetchOutcome> {
    return this.#artifact(`/v1/feeds/${feed}/snapshot`, 0, signal);
  }

  /** The delta from `since` to the latest version, waiting up to `waitSeconds` for one to exist. */
  delta(feed: string, since: number, waitSeconds: number, signal?: AbortSignal): Promise<FetchOutcome> {
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

  async #artifact(path: string, waitMs: number, signal?: AbortSignal): Promise<FetchOutcome> {
    const sent = await this.#request(path, waitMs, signal, {
      headers: { accept: 'application/octet-stream' },
    });
    if ('kind' in sent) return sent;
    const { response, retryAfter } = sent;
    if (response.status === 304) return { kind: 'current', retryAfterMs: retryAfter };
    if (response.status === 200) {
      const body = await readLimited(response, this.#maxBytes);
      if (typeof body === 'string') return { kind: 'failed', reason: 'too_large', message: body };
      return { kind: 'artifact', bytes: body, retryAfterMs: retryAfter };
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
    try {
      const response = await fetch(url, {
        ...init,
        headers: { ...init.headers, authorization: `Bearer ${this.#token}`, 'user-agent': USER_AGENT },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      return { response, retryAfter: retryAfterMs(response.headers.get('retry-after'), this.#now()) };
    } catch (error) {
      if (timeout.aborted) {
        return {
          kind: 'failed',
          reason: 'timeout',
          message: `${url}: no answer within ${waitMs + this.#timeoutMs} ms`,
        };
      }
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      return { kind: 'failed', reason: 'network', message: `${url}: ${cause ?? (error as Error).message}` };
    }
  }
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
    message: `${response.url}: HTTP ${response.status}${detail ? `: ${detail.slice(0, 300)}` : ''}`,
    retryAfterMs: retryAfter,
  };
}
