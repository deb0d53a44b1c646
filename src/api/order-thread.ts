/**
 * A large order body in a worker thread, start to end: JSON parsing, validation, screening, four-eyes, the write
 * and the reply's JSON text all happen there, so the event loop only reads the body's bytes and sends the reply
 * it gets back. Its answers are those of the inline route (order-answer.ts), refusals included.
 */

import type { Category } from '../core/types.ts';
import { errorBody } from '../core/types.ts';
import type { Registry } from '../registry/registry.ts';
import type { RegistryThreads, ThreadOptions } from '../registry/registry-threads.ts';
import { KeptWorker } from '../util/kept-worker.ts';
import { ApiError } from './errors.ts';
import { answerOrder, parseOrderBody, type WrittenOrder } from './order-answer.ts';

export interface OrderTask {
  databasePath: string;
  options: ThreadOptions;
  /** The request body as received (UTF-8 checked, nesting checked, not parsed). */
  text: string;
  actor: string;
  dryRun: boolean;
  confidential: readonly Category[];
}

/** The reply as JSON text, with its status and headers, and the order written, if any. */
export interface OrderAnswer {
  status: number;
  json: string;
  headers?: Record<string, string>;
  written?: WrittenOrder;
}

/** One thread for every large order of this process, kept between them (kept-worker.ts). */
const orders = new KeptWorker<OrderAnswer>(new URL('./order-worker.ts', import.meta.url), 'writing an order');

/** The task's answer, computed in a worker thread on its own connection to the registry of `threads`. */
export function orderInWorker(
  threads: RegistryThreads,
  task: Omit<OrderTask, 'databasePath' | 'options'>,
): Promise<OrderAnswer> {
  const data: OrderTask = { ...task, databasePath: threads.databasePath, options: threads.options };
  return orders.run(data);
}

/** What the worker computes: the route's answer, errors in the API's envelope, as JSON text. */
export function answerOrderText(registry: Registry, task: OrderTask): OrderAnswer {
  try {
    const input = parseOrderBody(task.text);
    const reply = answerOrder(registry, input, task.actor, task.dryRun, task.confidential);
    return {
      status: reply.status,
      json: JSON.stringify(reply.body),
      ...(reply.written && { written: reply.written }),
    };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return {
      status: error.status,
      json: JSON.stringify(errorBody(error.code, error.message, error.details)),
      ...(error.headers && { headers: error.headers }),
    };
  }
}
