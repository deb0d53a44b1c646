import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, expectError, expectRefused, type TestHub, testApp } from '../helpers/hub.ts';

// After an order exists: listing, reading, revoking, extending, and expiry by the hub's own timer.

let t: TestHub;
beforeEach(async () => {
  t = await testApp();
});
afterEach(() => t.close());

async function create(reference: string, targets: string[], extra: Record<string, unknown> = {}) {
  const body = { reference, authority: 'Authority', category: 'fraud', targets, ...extra };
  const r = await t.call('POST', '/v1/orders', { as: 'regulator', json: body });
  expect(r.status).toBe(201);
  return r.body as {
    order: { id: number; expiresAt: string | null };
    version: number;
    results: Array<{ status: string }>;
  };
}

const blocked = async (target: string) =>
  (await t.call('GET', `/v1/explain?target=${encodeURIComponent(target)}`, { as: 'regulator' })).body.blocked;
const getOrder = async (id: number, query = '') =>
  (await t.call('GET', `/v1/orders/${id}${query}`, { as: 'auditor' })).body;

/** Follows `nextCursor` from `path` and returns every item under `key`, page by page. */
async function walk(path: string, key: string) {
  const pages: unknown[][] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r = await t.call('GET', cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path, {
      as: 'auditor',
    });
    expect(r.status).toBe(200);
    pages.push(r.body[key]);
    cursor = r.body.nextCursor;
  } while (cursor !== null && pages.length < 100);
  return pages;
}

describe('GET /v1/orders', () => {
  it('walks every order, newest first, through cursor pages', async () => {
    for (let i = 1; i <= 7; i++) await create(`REF-${i}`, [`site${i}.example`]);
    const pages = await walk('/v1/orders?limit=3', 'orders');
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    const refs = pages.flat().map((o) => (o as { reference: string }).reference);
    expect(refs).toEqual(['REF-7', 'REF-6', 'REF-5', 'REF-4', 'REF-3', 'REF-2', 'REF-1']);
  });

  it('filters by status, reference and category', async () => {
    const a = await create('A-1', ['a.example']);
    await create('B-1', ['b.example'], { category: 'malware' });
    await t.call('POST', `/v1/orders/${a.order.id}/revoke`, { as: 'regulator', json: { reason: 'appeal' } });
    const refs = async (q: string) =>
      (await t.call('GET', `/v1/orders?${q}`, { as: 'regulator' })).body.orders.map(
        (o: { reference: string }) => o.reference,
      );
    expect(await refs('status=revoked')).toEqual(['A-1']);
    expect(await refs('status=active')).toEqual(['B-1']);
    expect(await refs('reference=B-1')).toEqual(['B-1']);
    expect(await refs('category=malware')).toEqual(['B-1']);
  });

  it('refuses a cursor it did not hand out', async () => {
    await create('A', ['a.example']);
    const entriesCursor = Buffer.from(JSON.stringify({ l: 'entries', k: 'a.example/' })).toString(
      'base64url',
    );
    for (const cursor of ['garbage!', 'eyJub3QiOiJhIGN1cnNvciJ9', entriesCursor]) {
      expectError(await t.call('GET', `/v1/orders?cursor=${cursor}`, { as: 'auditor' }), 400, 'bad_cursor');
    }
    for (const q of ['limit=0', 'limit=1001', 'limit=many', 'status=gone', 'sort=asc']) {
      expectError(await t.call('GET', `/v1/orders?${q}`, { as: 'auditor' }), 400, 'invalid_request');
    }
  });
});

describe('GET /v1/orders/:id', () => {
  it('returns the order with its entries, paged in insertion order', async () => {
    const targets = [
      'one.example',
      'two.example/path/',
      'three.example/page?q=1',
      'four.example',
      'five.example',
    ];
    const { order } = await create('PAGED', targets);
    const one = await getOrder(order.id);
    expect(one.order).toMatchObject({ id: order.id, reference: 'PAGED', entryCount: 5 });
    expect(one.entries.map((e: { expression: string }) => e.expression)).toEqual([
      'one.example/',
      'two.example/path/',
      'three.example/page?q=1',
      'four.example/',
      'five.example/',
    ]);
    expect(one.entries[1]).toMatchObject({
      kind: 'url',
      active: true,
      linkStatus: 'active',
      orderId: order.id,
    });
    const pages = await walk(`/v1/orders/${order.id}?limit=2`, 'entries');
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(one.entries);
  });

  it('answers 404 for an unknown order and 400 for an id that is not a number', async () => {
    expectError(await t.call('GET', '/v1/orders/999', { as: 'auditor' }), 404, 'not_found');
    expectError(await t.call('GET', '/v1/orders/abc', { as: 'auditor' }), 400, 'invalid_request');
    expectError(await t.call('GET', '/v1/orders/-1', { as: 'auditor' }), 400, 'invalid_request');
  });
});

describe('POST /v1/orders/:id/revoke', () => {
  it('removes the entries in a new version; a second revoke is a 409', async () => {
    const { order } = await create('R', ['gone.example', 'shared.example']);
    await create('KEEPS', ['shared.example']);
    const r = await t.call('POST', `/v1/orders/${order.id}/revoke`, {
      as: 'regulator',
      json: { reason: 'appeal upheld' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ version: 3, adds: 0, removes: 1 });
    expect(await t.version()).toBe(3);
    expect((await getOrder(order.id)).order).toMatchObject({
      status: 'revoked',
      revokeReason: 'appeal upheld',
      endedVersion: 3,
    });
    expect(await blocked('gone.example')).toBe(false);
    expect(await blocked('shared.example')).toBe(true);

    const again = () =>
      t.call('POST', `/v1/orders/${order.id}/revoke`, { as: 'regulator', json: { reason: 'x' } });
    await expectRefused(t, again, 409, 'conflict');
  });

  it('refuses an unknown order, a missing reason and a body that is not JSON', async () => {
    const { order } = await create('R', ['a.example']);
    const revoke = (id: number | string, json: unknown) =>
      t.call('POST', `/v1/orders/${id}/revoke`, { as: 'regulator', json });
    await expectRefused(t, () => revoke(404, { reason: 'x' }), 404, 'not_found');
    await expectRefused(t, () => revoke(order.id, {}), 400, 'invalid_request');
    await expectRefused(t, () => revoke(order.id, { reason: '  ' }), 400, 'invalid_request');
    await expectRefused(
      t,
      () => t.call('POST', `/v1/orders/${order.id}/revoke`, { as: 'regulator', body: 'reason=x' }),
      415,
      'unsupported_media_type',
    );
    expect(await blocked('a.example')).toBe(true);
  });
});

describe('POST /v1/orders/:id/revoke of a large order', () => {
  it('revokes 10 000 entries in a worker thread in one version, and the feeds follow it', async () => {
    // Published at once: this test is about the revoke, not the second regulator large orders wait for.
    await t.close();
    t = await testApp({ config: { approvalMaxTargets: 0 } });
    const targets = Array.from({ length: 10_000 }, (_, i) => `large-${i}.example`);
    const { order, version } = await create('LARGE', targets);
    await eventually(async () => (t.hub.feeds.version === version ? true : undefined), 'feeds at the order');
    const r = await t.call('POST', `/v1/orders/${order.id}/revoke`, {
      as: 'regulator',
      json: { reason: 'appeal upheld' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ version: version + 1, adds: 0, removes: 10_000 });
    expect((await getOrder(order.id)).order).toMatchObject({ status: 'revoked', endedVersion: version + 1 });
    expect(await blocked('large-9999.example')).toBe(false);
    await eventually(
      async () => (t.hub.feeds.version === version + 1 ? true : undefined),
      'feeds at the revoke',
    );
    const again = () =>
      t.call('POST', `/v1/orders/${order.id}/revoke`, { as: 'regulator', json: { reason: 'x' } });
    await expectRefused(t, again, 409, 'conflict');
  });
});

describe('POST /v1/orders/:id/extend', () => {
  it('sets a new expiry, or none, each in a new version', async () => {
    const { order } = await create('E', ['e.example'], {
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const later = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const r = await t.call('POST', `/v1/orders/${order.id}/extend`, {
      as: 'regulator',
      json: { expiresAt: later },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      version: 2,
      adds: 0,
      removes: 0,
      order: { id: order.id, expiresAt: later },
    });
    const never = await t.call('POST', `/v1/orders/${order.id}/extend`, {
      as: 'regulator',
      json: { expiresAt: null },
    });
    expect(never.body).toMatchObject({ version: 3, order: { expiresAt: null } });
    expect(await blocked('e.example')).toBe(true);
  });

  it('refuses a bad time, a missing field and an ended order', async () => {
    const { order } = await create('E', ['e.example']);
    const extend = (json: unknown) =>
      t.call('POST', `/v1/orders/${order.id}/extend`, { as: 'regulator', json });
    await expectRefused(t, () => extend({ expiresAt: 'next week' }), 400, 'invalid_request');
    await expectRefused(t, () => extend({}), 400, 'invalid_request');
    await t.call('POST', `/v1/orders/${order.id}/revoke`, { as: 'regulator', json: { reason: 'done' } });
    await expectRefused(t, () => extend({ expiresAt: null }), 409, 'conflict');
  });
});

describe('expiry without a restart', () => {
  /** Waits until the hub's timer has released `target` and returns the version it did it in. */
  const released = (after: number, target: string) =>
    eventually(async () => {
      const v = await t.version();
      return v > after && !(await blocked(target)) ? v : undefined;
    }, `${target} to be released`);

  it('releases an order whose expiry passes, in a new version by the system', async () => {
    await create('LONG', ['stays.example']);
    const { order, version, results } = await create('SHORT', ['brief.example', 'brief.example/a/'], {
      expiresAt: new Date(Date.now() + 500).toISOString(),
    });
    expect(results.map((r) => r.status)).toEqual(['added', 'added']);

    const v = await released(version, 'brief.example');
    expect(v).toBe(version + 1);
    expect((await getOrder(order.id)).order).toMatchObject({ status: 'expired', endedVersion: v });
    const log = await t.call('GET', `/v1/audit?version=${v}`, { as: 'auditor' });
    expect(
      log.body.changes.map((c: { op: string; expression: string; actor: string }) => [
        c.op,
        c.expression,
        c.actor,
      ]),
    ).toEqual([
      ['remove', 'brief.example/', 'system'],
      ['remove', 'brief.example/a/', 'system'],
    ]);
    expect(await blocked('stays.example')).toBe(true);
  });

  it('re-arms the timer when an extension brings an expiry closer', async () => {
    const { order, version } = await create('MOVED', ['moved.example'], {
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const soon = new Date(Date.now() + 300).toISOString();
    const r = await t.call('POST', `/v1/orders/${order.id}/extend`, {
      as: 'regulator',
      json: { expiresAt: soon },
    });
    expect(r.body.version).toBe(version + 1);
    expect(await released(version + 1, 'moved.example')).toBe(version + 2);
    expect((await getOrder(order.id)).order.status).toBe('expired');
  });
});
