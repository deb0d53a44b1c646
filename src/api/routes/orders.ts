import { Hono } from 'hono';
import type { OrderInput } from '../../registry/types.ts';
import { type AuthEnv, actorOf, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { BODY_LIMITS, jsonBody } from '../json-body.ts';
import { previewOrder } from '../order-preview.ts';
import { unwrap } from '../registry-result.ts';
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
/** An order of at least this many targets is screened and written in a worker thread (docs/DECISIONS.md). */
const OFF_THREAD_ORDER_TARGETS = 1000;
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

  return new Hono<AuthEnv>()
    .post(
      '/',
      write,
      validate('query', createOrderQuery),
      jsonBody(bodyLimit),
      validate('json', createOrderBody),
      async (c) => {
        const body = c.req.valid('json');
        if (c.req.valid('query').dryRun === 'true') {
          return c.json(unwrap(previewOrder(registry, body, confidentialCategories, await crowding(body))));
        }
        const principal = c.get('principal');
        const actor = actorOf(principal);
        const large = body.targets.length >= OFF_THREAD_ORDER_TARGETS;
        const created = unwrap(
          threads && large
            ? await threads.createOrder(body, actor)
            : registry.createOrder(body, actor, await crowding(body)),
        );
        const reply = {
          order: created.order,
          version: created.version,
          results: created.results,
          counts: created.counts,
        };
        log?.(created.pending ? 'order_pending' : 'order_created', {
          order: created.order.id,
          reference: created.order.reference,
          version: created.version,
          targets: created.results.length,
          actor: principal.id,
        });
        // A pending order changed no version: nothing for feeds to pick up until it is approved.
        if (created.pending) return c.json({ ...reply, pending: true }, 202);
        committed(created.version);
        return c.json(reply, 201);
      },
    )
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
