/**
 * The hub as the edge sees it: feed artifacts for the distributor role and, best effort, the orders behind a
 * blocked URL. Failures are values; a message never carries the hub's address or the token.
 */
import { fail, ok, type Result } from '../../src/core/types.ts';

/** What the hub answered to "delta since V". */
export type DeltaAnswer =
  | { kind: 'artifact'; bytes: Uint8Array }
  | { kind: 'current' }
  /** V is too old for a delta: start again from a snapshot. */
  | { kind: 'resync' };

/** What the hub answered to "the latest snapshot". */
export type SnapshotAnswer =
  | { kind: 'artifact'; bytes: Uint8Array; etag: string | null }
  | { kind: 'unchanged' };

/** An order as `/v1/explain` reports it (the fields a block page shows). */
export interface OrderSummary {
  reference: string;
  authority: string;
  issuedAt: string;
}

const ARTIFACT_TIMEOUT_MS = 20_000;
const EXPLAIN_TIMEOUT_MS = 2_000;

export class HubClient {
  constructor(
    private readonly base: URL,
    private readonly token: string | null,
  ) {}

  /** The latest snapshot; `unchanged` when the hub still serves the one whose ETag is given. */
  async snapshot(feed: string, etag?: string): Promise<Result<SnapshotAnswer>> {
    const response = await this.get(`/v1/feeds/${feed}/snapshot`, ARTIFACT_TIMEOUT_MS, etag);
    if (!response.ok) return response;
    const r = response.value;
    if (r.status === 304 && etag) return ok({ kind: 'unchanged' });
    if (r.status !== 200)
      return fail('hub_error', `hub answered ${r.status} ${await errorCode(r)} for the snapshot`);
    return ok({
      kind: 'artifact',
      bytes: new Uint8Array(await r.arrayBuffer()),
      etag: r.headers.get('etag'),
    });
  }

  async delta(feed: string, since: number): Promise<Result<DeltaAnswer>> {
    const response = await this.get(`/v1/feeds/${feed}/delta?since=${since}`, ARTIFACT_TIMEOUT_MS);
    if (!response.ok) return response;
    const r = response.value;
    if (r.status === 304) return ok({ kind: 'current' });
    if (r.status === 200) return ok({ kind: 'artifact', bytes: new Uint8Array(await r.arrayBuffer()) });
    const code = await errorCode(r);
    if ((r.status === 409 || r.status === 410) && code === 'resync_required') return ok({ kind: 'resync' });
    return fail('hub_error', `hub answered ${r.status} ${code} for the delta since ${since}`);
  }

  /** The active orders holding `url`, as the hub's registry says now. */
  async orders(url: string): Promise<Result<OrderSummary[]>> {
    const response = await this.get(`/v1/explain?target=${encodeURIComponent(url)}`, EXPLAIN_TIMEOUT_MS);
    if (!response.ok) return response;
    const r = response.value;
    if (r.status !== 200)
      return fail('hub_error', `hub answered ${r.status} ${await errorCode(r)} to explain`);
    const body = (await r.json().catch(() => null)) as { matches?: { orders?: unknown[] }[] } | null;
    const seen = new Map<string, OrderSummary>();
    for (const match of body?.matches ?? []) {
      for (const order of match.orders ?? []) {
        const summary = toSummary(order);
        if (summary) seen.set(`${summary.authority}\u0000${summary.reference}`, summary);
      }
    }
    return ok([...seen.values()]);
  }

  private async get(path: string, timeoutMs: number, etag?: string): Promise<Result<Response>> {
    const headers: Record<string, string> = { accept: 'application/octet-stream, application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (etag) headers['if-none-match'] = etag;
    try {
      return ok(await fetch(new URL(path, this.base), { headers, signal: AbortSignal.timeout(timeoutMs) }));
    } catch (error) {
      const { name, message } = error as Error;
      return fail(
        'hub_unreachable',
        `hub request ${path.split('?')[0]} failed: ${name}: ${message.slice(0, 200)}`,
      );
    }
  }
}

async function errorCode(r: Response): Promise<string> {
  const body = (await r.json().catch(() => null)) as { error?: { code?: unknown } } | null;
  return typeof body?.error?.code === 'string' ? body.error.code : 'without an error code';
}

function toSummary(order: unknown): OrderSummary | null {
  if (typeof order !== 'object' || order === null) return null;
  const { reference, authority, issuedAt } = order as Record<string, unknown>;
  if (typeof reference !== 'string' || typeof authority !== 'string') return null;
  return { reference, authority, issuedAt: typeof issuedAt === 'string' ? issuedAt : '' };
}
