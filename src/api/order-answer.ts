/**
 * What `POST /v1/orders` answers, from the body's text to the reply: shared by the route (small bodies, on the
 * event loop) and the order worker (large ones, see order-thread.ts), so both answer alike to the byte.
 */
import type { Category } from '../core/types.ts';
import type { EntriesUnder } from '../registry/four-eyes.ts';
import type { Registry } from '../registry/registry.ts';
import type { OrderInput } from '../registry/types.ts';
import { parseJson } from './json-body.ts';
import { previewOrder } from './order-preview.ts';
import { unwrap } from './registry-result.ts';
import { createOrderBody } from './schemas.ts';
import { invalidRequest } from './validate.ts';

/** An order the answer wrote (or stored pending): what the route logs and tells the feeds. */
export interface WrittenOrder {
  orderId: number;
  reference: string;
  version: number;
  pending: boolean;
  targets: number;
}

export interface OrderReply {
  status: 200 | 201 | 202;
  body: object;
  written?: WrittenOrder;
}

/** The order a body holds, or the 400 (`malformed_json`, `invalid_request` naming each field) it earns. */
export function parseOrderBody(text: string): OrderInput {
  const parsed = createOrderBody.safeParse(parseJson(text));
  if (!parsed.success) throw invalidRequest(parsed.error.issues, 'body');
  return parsed.data;
}

/**
 * Writes the order (201, or 202 when it waits for a second regulator), or answers what it would do (`dryRun`,
 * 200, nothing written); a refusal throws the ApiError of the registry's code. `counted`: see createOrder.
 */
export function answerOrder(
  registry: Registry,
  input: OrderInput,
  actor: string,
  dryRun: boolean,
  confidential: readonly Category[],
  counted?: EntriesUnder,
): OrderReply {
  if (dryRun) return { status: 200, body: unwrap(previewOrder(registry, input, confidential, counted)) };
  const created = unwrap(registry.createOrder(input, actor, counted));
  const body = {
    order: created.order,
    version: created.version,
    results: created.results,
    counts: created.counts,
    // A pending order changed no version: nothing for feeds to pick up until it is approved.
    ...(created.pending && { pending: true }),
  };
  const written: WrittenOrder = {
    orderId: created.order.id,
    reference: created.order.reference,
    version: created.version,
    pending: created.pending,
    targets: created.results.length,
  };
  return { status: created.pending ? 202 : 201, body, written };
}
