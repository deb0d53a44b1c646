import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { OrderInput } from '../../registry/types.ts';
import { type AuthEnv, actorOf, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { BODY_LIMITS, jsonBody, jsonText } from '../json-body.ts';
import { answerOrder, parseOrderBody, type WrittenOrder } from '../order-answer.ts';
import { orderInWorker } from '../order-thread.ts';
import { unwrap } from '../registry-result.ts';
import { withMeta } from '../route-meta.ts';
import {
  createOrderBody,
  createOrderQuery,
  extendBody,
  idParam,
  orderEntriesQuery,
  orderQuery,
  reasonBody,
  revokeBody,
} from '../schemas.ts';
import { validate } from '../validate.ts';

/** Revoking an order of at least this many entries runs in a worker thread (see docs/DECISIONS.md). */
const OFF_THREAD_REVOKE_ENTRIES = 10_000;
/**
 * An order body of at least this many characters (about 500 targets) is handled in a worker thread from its
 * JSON text on (docs/DECISIONS.md).
 */
const OFF_THREAD_ORDER_BODY = 16 * 1024;
/** From this many entries on, four-eyes' count of entries under a domain runs in a worker thread. */
const OFF_THREAD_COUNT_ENTRIES = 100_000;

/** `/v1/orders`: regulators write, auditors read; a second regulator approves or rejects pending orders. */
export function ordersRoutes({
  registry,
  authenticate,
  committed,
  confidentialCategories,
  bodyLimit,
  log,
  threads,
}: AppDeps) {
  const revoke = async (id: number, reason: string, actor: string, release: boolean) => {
    const found = registry.getOrder(id, { limit: 1 });
    const large = found.ok && found.value.order.entryCount >= OFF_THREAD_REVOKE_ENTRIES;
    return threads && large
      ? await threads.revokeOrder(id, reason, actor, release)
      : registry.revokeOrder(id, reason, actor, { release });
  };
  // Four-eyes counts the entries under an order's registrable domains: a pass over every active entry,
  // so on a large registry the hub runs it in a worker thread; on a small one the pass costs less than
  // starting a worker (see docs/DECISIONS.md).
  const crowding = async (body: OrderInput): Promise<Map<string, number> | undefined> => {
    if (!threads || registry.entriesCreated() < OFF_THREAD_COUNT_ENTRIES) return undefined;
    const domains = registry.orderCrowdingDomains(body);
    return domains.length > 0 ? new Map(await threads.countEntriesUnder(domains)) : undefined;
  };
  const read = requireRole(authenticate, 'regulator', 'auditor');
  const write = requireRole(authenticate, 'regulator');
  /** What every action on one order takes: a regulator, the order's id in the path, a small JSON body. */
  const onOrder = <T extends Parameters<typeof validate>[1]>(body: T) =>
    [write, validate('param', idParam), jsonBody(BODY_LIMITS.small), validate('json', body)] as const;

  /**
   * `POST /v1/orders`: a body of OFF_THREAD_ORDER_BODY characters or more is parsed, checked, screened, written
   * and answered in a worker thread (order-thread.ts); a smaller one here, with the same answers.
   */
  const createOrder = withMeta(
    async (c: Context<AuthEnv, string, { out: { query: { dryRun?: 'true' | 'false' } } }>) => {
      const text = await jsonText(c, bodyLimit);
      const dryRun = c.req.valid('query').dryRun === 'true';
      const principal = c.get('principal');
      const actor = actorOf(principal);
      let answer: { status: number; written?: WrittenOrder; send(): Response };
      if (threads && text.length >= OFF_THREAD_ORDER_BODY) {
        const task = { text, actor, dryRun, confidential: confidentialCategories };
        const done = await orderInWorker(threads, task);
        const headers = { ...done.headers, 'content-type': 'application/json' };
        answer = { ...done, send: () => c.body(done.json, done.status as ContentfulStatusCode, headers) };
      } else {
        const input = parseOrderBody(text);
        const counted = await crowding(input);
        const reply = answerOrder(registry, input, actor, dryRun, confidentialCategories, counted);
        answer = { ...reply, send: () => c.json(reply.body, reply.status) };
      }
      const { written } = answer;
      if (written) {
        log?.(written.pending ? 'order_pending' : 'order_created', {
          order: written.orderId,
          reference: written.reference,
          version: written.version,
          targets: written.targets,
          actor: principal.id,
        });
        if (!written.pending) committed(written.version);
      }
      return answer.send();
    },
    { bodyLimit, request: { part: 'json', schema: createOrderBody } },
  );

  return new Hono<AuthEnv>()
    .post('/', write, validate('query', createOrderQuery), createOrder)
    .get('/', read, validate('query', orderQuery), (c) => {
      const page = unwrap(registry.listOrders(c.req.valid('query')));
      return c.json({ orders: page.items, nextCursor: page.nextCursor });
    })
    .get('/:id', read, validate('param', idParam), validate('query', orderEntriesQuery), (c) => {
      const { order, entries } = unwrap(registry.getOrder(c.req.valid('param').id, c.req.valid('query')));
      return c.json({ order, entries: entries.items, nextCursor: entries.nextCursor });
    })
    .post('/:id/revoke', ...onOrder(revokeBody), async (c) => {
      const { id } = c.req.valid('param');
      const principal = c.get('principal');
      const { reason, release } = c.req.valid('json');
      const outcome = unwrap(await revoke(id, reason, actorOf(principal), release === true));
      committed(outcome.version);
      log?.('order_revoked', { order: id, version: outcome.version, release, actor: principal.id });
      return c.json(outcome);
    })
    .post('/:id/extend', ...onOrder(extendBody), (c) => {
      const { id } = c.req.valid('param');
      const principal = c.get('principal');
      const { expiresAt, reason } = c.req.valid('json');
      const outcome = unwrap(registry.extendOrder(id, expiresAt, actorOf(principal), reason));
      committed(outcome.version);
      log?.('order_extended', { order: id, version: outcome.version, expiresAt, actor: principal.id });
      return c.json(outcome);
    })
    .post('/:id/approve', ...onOrder(reasonBody), (c) => {
      const { id } = c.req.valid('param');
      const principal = c.get('principal');
      const approved = unwrap(registry.approveOrder(id, c.req.valid('json').reason, actorOf(principal)));
      committed(approved.version);
      log?.('order_approved', { order: id, version: approved.version, actor: principal.id });
      return c.json({
        order: approved.order,
        version: approved.version,
        results: approved.results,
        counts: approved.counts,
      });
    })
    .post('/:id/reject', ...onOrder(reasonBody), (c) => {
      const { id } = c.req.valid('param');
      const principal = c.get('principal');
      const outcome = unwrap(registry.rejectOrder(id, c.req.valid('json').reason, actorOf(principal)));
      committed(outcome.version);
      log?.('order_rejected', { order: id, version: outcome.version, actor: principal.id });
      return c.json(outcome);
    });
}
