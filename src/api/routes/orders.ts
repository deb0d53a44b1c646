import { Hono } from 'hono';
import { type AuthEnv, actorOf, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { BODY_LIMITS, jsonBody } from '../json-body.ts';
import { unwrap } from '../registry-result.ts';
import {
  createOrderBody,
  extendBody,
  idParam,
  orderEntriesQuery,
  orderQuery,
  reasonBody,
} from '../schemas.ts';
import { validate } from '../validate.ts';

/** `/v1/orders`: regulators write, auditors read. */
export function ordersRoutes({ registry, authenticate, committed, bodyLimit, log }: AppDeps) {
  const read = requireRole(authenticate, 'regulator', 'auditor');
  const write = requireRole(authenticate, 'regulator');

  return new Hono<AuthEnv>()
    .post('/', write, jsonBody(bodyLimit), validate('json', createOrderBody), (c) => {
      const principal = c.get('principal');
      const created = unwrap(registry.createOrder(c.req.valid('json'), actorOf(principal)));
      committed(created.version);
      log?.('order_created', {
        order: created.order.id,
        reference: created.order.reference,
        version: created.version,
        targets: created.results.length,
        actor: principal.id,
      });
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
      jsonBody(BODY_LIMITS.small),
      validate('json', reasonBody),
      (c) => {
        const { id } = c.req.valid('param');
        const principal = c.get('principal');
        const outcome = unwrap(registry.revokeOrder(id, c.req.valid('json').reason, actorOf(principal)));
        committed(outcome.version);
        log?.('order_revoked', { order: id, version: outcome.version, actor: principal.id });
        return c.json(outcome);
      },
    )
    .post(
      '/:id/extend',
      write,
      validate('param', idParam),
      jsonBody(BODY_LIMITS.small),
      validate('json', extendBody),
      (c) => {
        const { id } = c.req.valid('param');
        const principal = c.get('principal');
        const { expiresAt } = c.req.valid('json');
        const outcome = unwrap(registry.extendOrder(id, expiresAt, actorOf(principal)));
        committed(outcome.version);
        log?.('order_extended', { order: id, version: outcome.version, expiresAt, actor: principal.id });
        return c.json(outcome);
      },
    );
}
