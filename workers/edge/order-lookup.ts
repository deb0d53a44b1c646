/**
 * The orders behind a blocked URL. The `filter` feed carries only hashes, so the edge asks the hub's
 * `/v1/explain` (short timeout) and remembers the answer per feed version; without a hub, or when it does
 * not answer, the block page says the reference is unavailable.
 */
import type { HubClient } from '../../src/core/hub-client.ts';

/** An order as `/v1/explain` reports it (the fields a block page shows). */
export interface OrderSummary {
  reference: string;
  authority: string;
  issuedAt: string;
}

/** Answers kept per isolate; the oldest goes first. */
const MAX_CACHED = 1000;
/** An unanswered lookup is not retried for this long, so a hub outage does not slow every blocked request. */
const RETRY_AFTER_MS = 30_000;
/** A block page waits at most this long for the hub. */
const EXPLAIN_TIMEOUT_MS = 2_000;

export class OrderLookup {
  readonly #cache = new Map<string, { orders: OrderSummary[] | null; at: number }>();

  constructor(private readonly hub: HubClient | null) {}

  /** The orders holding the canonical URL `href` at `version`; null when unknown. */
  async orders(href: string, version: number, now: number): Promise<OrderSummary[] | null> {
    if (!this.hub) return null;
    const key = `${version} ${href}`;
    const cached = this.#cache.get(key);
    if (cached && (cached.orders !== null || now - cached.at < RETRY_AFTER_MS)) return cached.orders;
    const answer = await this.hub.explain(href, AbortSignal.timeout(EXPLAIN_TIMEOUT_MS));
    const found = answer.kind === 'json' ? ordersOf(answer.body) : [];
    // An empty answer means the hub no longer holds an active order (a revocation the feed has not
    // reached yet): the reference is then unavailable, not "no order".
    const orders = found.length > 0 ? found : null;
    this.#cache.delete(key);
    this.#cache.set(key, { orders, at: now });
    if (this.#cache.size > MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value as string);
    return orders;
  }
}

/** The distinct orders of an explain answer. */
function ordersOf(body: unknown): OrderSummary[] {
  const matches = (body as { matches?: { orders?: unknown[] }[] } | null)?.matches ?? [];
  const seen = new Map<string, OrderSummary>();
  for (const match of matches) {
    for (const order of match.orders ?? []) {
      const summary = toSummary(order);
      if (summary) seen.set(`${summary.authority}\u0000${summary.reference}`, summary);
    }
  }
  return [...seen.values()];
}

function toSummary(order: unknown): OrderSummary | null {
  if (typeof order !== 'object' || order === null) return null;
  const { reference, authority, issuedAt } = order as Record<string, unknown>;
  if (typeof reference !== 'string' || typeof authority !== 'string') return null;
  return { reference, authority, issuedAt: typeof issuedAt === 'string' ? issuedAt : '' };
}
