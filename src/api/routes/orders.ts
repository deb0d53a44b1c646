import { Hono } from 'hono';
import { type AuthEnv, actorOf, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { unwrap } from '../registry-result.ts';
import {
  createOrderBody,
  extendBody,
  idParam,
  orderEntriesQuery,
  orderQuery,
  reasonBody,
} from '../schemas.ts';
import { jsonBody, validate } from '../validate.ts';

/** Revoking an order of at least this many entries runs in a worker thread (see docs/DECISIONS.md). */
const OFF_THREAD_REVOKE_ENTRIES = 10_000;

/** `/v1/orders`: regulators write, auditors read. */
export function ordersRoutes({ registry, authenticate, committed, threads }: AppDeps) {
  const revoke = async (id: number, reason: string, actor: string) => {
    const found = registry.getOrder(id, { limit: 1 });
    const large = found.ok && found.value.order.entryCount >= OFF_THREAD_REVOKE_ENTRIES;
    return threads && large
      ? await threads.revokeOrder(id, reason, actor)
      : registry.revokeOrder(id, reason, actor);
  };

  const read = requireRole(authenticate, 'regulator', 'auditor');
  const write = requireRole(authenticate, 'regulator');

  return new Hono<AuthEnv>()
    .post('/', write, jsonBody, validate('json', createOrderBody), (c) => {
      const created = unwrap(registry.createOrder(c.req.valid('json'), actorOf(c.get('principal'))));
      committed(created.version);
      return c.json({ order: created.order, version: created.version, results: created.results }, 201);
    })
    .get('/', read, validate('query', orderQuery), (c) => {
      const page = unwrap(registry.listOrders(c.req.valid('query')));
      return c.json({ orders: page.items, nextCursor: page.nextCursor });
    })
    .get('/:id', read, validate('param', idParam), validate('query', orderEntriesQuery), (c) => {
      const { order, entries } = unwrap(registry.getOrder(c.req.valid('param').id, c.req.valid('query')));
      return c.json({ order, entries: entries.items, nextCursor: entries.nextCursor });
    })
    .post(
      '/:id/revoke',
      write,
      validate('param', idParam),
      jsonBody,
      validate('json', reasonBody),
      async (c) => {
        const { id } = c.req.valid('param');
        const outcome = unwrap(await revoke(id, c.req.valid('json').reason, actorOf(c.get('principal'))));
        committed(outcome.version);
        return c.json(outcome);
      },
    )
    .post('/:id/extend', write, validate('param', idParam), jsonBody, validate('json', extendBody), (c) => {
      const { id } = c.req.valid('param');
      const outcome = unwrap(
        registry.extendOrder(id, c.req.valid('json').expiresAt, actorOf(c.get('principal'))),
      );
      committed(outcome.version);
      return c.json(outcome);
    });
}
