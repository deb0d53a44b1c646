import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_ORDER_TARGETS } from '../../src/api/schemas.ts';
import { expectError, expectRefused, type TestHub, testApp } from '../helpers/hub.ts';

// POST /v1/orders: one order, one version, all targets or none (docs/ARCHITECTURE.md: entries and matching; versions, feeds and artifacts; interfaces).

const order = (targets: unknown[], extra: Record<string, unknown> = {}) => ({
  reference: '5167/BTTTT-CATTT',
  authority: 'Authority of Information Security',
  category: 'phishing',
  reason: 'phishing kit impersonating a bank',
  targets,
  ...extra,
});

let t: TestHub;
beforeEach(async () => {
  t = await testApp();
});
afterEach(() => t.close());

const post = (body: unknown) => t.call('POST', '/v1/orders', { as: 'regulator', json: body });
const blocked = async (target: string) =>
  (await t.call('GET', `/v1/explain?target=${encodeURIComponent(target)}`, { as: 'auditor' })).body.blocked;

describe('creating an order (happy path)', () => {
  it('answers 201 with the order, one result per target and the next version', async () => {
    const r = await post(
      order(['evil.example', 'https://Phish.example/login.php?x=1', 'http://EVIL.example./']),
    );
    expect(r.status).toBe(201);
    expect(r.body.version).toBe(1);
    expect(await t.version()).toBe(1);
    expect(r.body.order).toMatchObject({
      id: expect.any(Number),
      reference: '5167/BTTTT-CATTT',
      category: 'phishing',
      action: 'block',
      status: 'active',
      version: 1,
      expiresAt: null,
      override: null,
      entryCount: 2,
      createdBy: `token:${t.tokenIds.regulator}:test-regulator`,
    });
    expect(r.body.results).toEqual([
      { target: 'evil.example', kind: 'domain', expression: 'evil.example/', status: 'added' },
      {
        target: 'https://Phish.example/login.php?x=1',
        kind: 'url',
        expression: 'phish.example/login.php?x=1',
        status: 'added',
      },
      { target: 'http://EVIL.example./', kind: 'domain', expression: 'evil.example/', status: 'duplicate' },
    ]);
    expect(await blocked('http://www.evil.example/any')).toBe(true);
  });

  it('marks a target that another active order holds as already-active', async () => {
    expect((await post(order(['shared.example']))).status).toBe(201);
    const r = await post(
      order(['shared.example', 'new.example'], { reference: 'second', action: 'redirect' }),
    );
    expect(r.status).toBe(201);
    expect(r.body.version).toBe(2);
    expect(r.body.results.map((x: { status: string }) => x.status)).toEqual(['already-active', 'added']);
    expect(r.body.order).toMatchObject({ action: 'redirect', entryCount: 2 });
  });

  it('accepts safety-rail targets with an override once a second regulator approves, recorded in the order and in the change log', async () => {
    const reason = 'court ruling 12/2026 orders the whole suffix blocked';
    const pending = await post(
      order(['google.com', 'github.io', '192.0.2.1', 'ok.example'], { override: { reason } }),
    );
    expect(pending.status).toBe(202);
    expect(pending.body.order.status).toBe('pending');
    const second = t.hub.registry.createToken('regulator', 'second-regulator');
    if (!second.ok) throw new Error(second.error.message);
    const r = await t.call('POST', `/v1/orders/${pending.body.order.id}/approve`, {
      token: second.value.token,
      json: { reason: 'checked the court ruling' },
    });
    expect(r.status).toBe(200);
    const rails = Object.fromEntries(
      r.body.results.map((x: { target: string; rails?: string[] }) => [x.target, x.rails]),
    );
    expect(rails).toEqual({
      'google.com': ['protected_domain'],
      'github.io': ['public_suffix'],
      '192.0.2.1': ['ip_literal'],
      'ok.example': undefined,
    });
    const recorded = r.body.order.override;
    expect(recorded.reason).toBe(reason);
    expect(recorded.actor).toBe(`token:${t.tokenIds.regulator}:test-regulator`);
    expect([...recorded.rails].sort()).toEqual(['ip_literal', 'protected_domain', 'public_suffix']);
    expect([...recorded.targets].sort()).toEqual(['192.0.2.1/', 'github.io/', 'google.com/']);
    const fetched = await t.call('GET', `/v1/orders/${r.body.order.id}`, { as: 'auditor' });
    expect(fetched.body.order.override).toEqual(recorded);

    const log = await t.call('GET', '/v1/audit?version=1', { as: 'auditor' });
    const notes = Object.fromEntries(
      log.body.changes.map((c: { expression: string; note: string }) => [c.expression, c.note]),
    );
    expect(JSON.parse(notes['google.com/'])).toEqual({ override: ['protected_domain'], reason });
    expect(JSON.parse(notes['github.io/'])).toEqual({ override: ['public_suffix'], reason });
    expect(notes['ok.example/']).toBe('');
  });

  it('keeps an expiry that lies in the future', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const r = await post(order(['later.example'], { expiresAt, issuedAt: '2026-01-02T03:04:05+07:00' }));
    expect(r.status).toBe(201);
    expect(r.body.order).toMatchObject({ expiresAt, issuedAt: '2026-01-01T20:04:05.000Z' });
  });
});

describe('an order with a bad target is refused whole (422, nothing written)', () => {
  const refusedTargets: Array<[string, string]> = [
    ['com', 'public_suffix'],
    ['co.uk', 'public_suffix'],
    ['github.io', 'public_suffix'],
    ['google.com', 'protected_domain'],
    ['mail.google.com', 'protected_domain'],
    ['https://www.google.com/search?q=x', 'protected_domain'],
    ['192.0.2.1', 'ip_literal'],
    ['http://[2001:db8::1]/', 'ip_literal'],
    [`${'x'.repeat(64)}.example`, 'label_too_long'],
    [`${`${'a'.repeat(60)}.`.repeat(5)}example`, 'name_too_long'],
    [`http://long.example/${'p'.repeat(2100)}`, 'too_long'],
    ['ftp://files.example/evil', 'unsupported_scheme'],
    ['bad!name.example', 'invalid_character'],
    ['0.0.0.0 hosts-line.example', 'invalid_character'],
  ];

  it.each(refusedTargets)('%s -> %s', async (target, code) => {
    const r = await expectRefused(t, () => post(order(['good.example', target])), 422, 'targets_rejected');
    expect(r.body.error.message).toMatch(/1 of 2 targets rejected/);
    const [good, bad] = r.body.error.details;
    expect(good).toMatchObject({ target: 'good.example', status: 'accepted' });
    expect(bad).toMatchObject({ target, status: 'rejected', code });
    expect(bad.message).toEqual(expect.any(String));
    expect(await blocked('good.example')).toBe(false);
  });

  it('reports every target of a mixed order and writes none of them', async () => {
    const targets = ['fine.example', 'com', 'google.com', '198.51.100.7', 'fine2.example/path'];
    const r = await expectRefused(t, () => post(order(targets)), 422, 'targets_rejected');
    expect(r.body.error.details.map((d: { code?: string; status: string }) => d.code ?? d.status)).toEqual([
      'accepted',
      'public_suffix',
      'protected_domain',
      'ip_literal',
      'accepted',
    ]);
    const entries = await t.call('GET', '/v1/entries', { as: 'auditor' });
    expect(entries.body.entries).toEqual([]);
    expect((await t.call('GET', '/v1/orders', { as: 'auditor' })).body.orders).toEqual([]);
    expect((await t.call('GET', '/v1/audit', { as: 'auditor' })).body.changes).toEqual([]);
  });

  it('screens and writes an order of 1 000 targets or more in a worker thread, with the same answers', async () => {
    const bulk = await testApp({ config: { approvalMaxTargets: 0 } });
    try {
      const targets = Array.from({ length: 1200 }, (_, i) => `bulk-${i}.example`);
      const send = (list: string[]) =>
        bulk.call('POST', '/v1/orders', { as: 'regulator', json: order(list) });
      const refused = await expectRefused(
        bulk,
        () => send([...targets, 'google.com']),
        422,
        'targets_rejected',
      );
      expect(refused.body.error.details.at(-1)).toMatchObject({
        status: 'rejected',
        code: 'protected_domain',
      });
      const r = await send([...targets, 'bulk-0.example']);
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ version: 1, order: { status: 'active', entryCount: 1200 } });
      expect(r.body.counts).toMatchObject({ added: 1200, duplicate: 1 });
      expect(r.body.results[1199]).toEqual({
        target: 'bulk-1199.example',
        kind: 'domain',
        expression: 'bulk-1199.example/',
        status: 'added',
      });
      expect(await bulk.version()).toBe(1);
      const explained = await bulk.call('GET', '/v1/explain?target=bulk-7.example', { as: 'auditor' });
      expect(explained.body.blocked).toBe(true);
    } finally {
      await bulk.close();
    }
  });

  it('refuses an expiry in the past', async () => {
    const expiresAt = new Date(Date.now() - 60_000).toISOString();
    const r = await expectRefused(t, () => post(order(['a.example'], { expiresAt })), 422, 'invalid_input');
    expect(r.body.error.message).toMatch(/expiresAt/);
  });
});

describe('request validation (400, 413, 415; nothing written)', () => {
  it('refuses malformed JSON', async () => {
    const send = () =>
      t.call('POST', '/v1/orders', {
        as: 'regulator',
        body: '{"reference": "x", "targets": [',
        headers: { 'content-type': 'application/json' },
      });
    await expectRefused(t, send, 400, 'malformed_json');
  });

  it('refuses unknown fields and names them', async () => {
    const r = await expectRefused(
      t,
      () => post(order(['a.example'], { status: 'revoked' })),
      400,
      'invalid_request',
    );
    expect(r.body.error.message).toContain('status');
    expect(r.body.error.details).toEqual([expect.objectContaining({ code: 'unrecognized_keys' })]);
  });

  it('refuses a __proto__ key instead of merging it', async () => {
    const body = JSON.stringify(order(['a.example'])).replace(/^\{/, '{"__proto__":{"role":"admin"},');
    const send = () =>
      t.call('POST', '/v1/orders', {
        as: 'regulator',
        body,
        headers: { 'content-type': 'application/json' },
      });
    const r = await expectRefused(t, send, 400, 'invalid_request');
    expect(r.body.error.message).toContain('__proto__');
  });

  it('refuses an unknown category and names the field', async () => {
    const r = await expectRefused(
      t,
      () => post(order(['a.example'], { category: 'spam' })),
      400,
      'invalid_request',
    );
    expect(r.body.error.details).toEqual([expect.objectContaining({ field: 'category' })]);
    expect(r.body.error.message).toMatch(/^category: /);
  });

  it.each([
    ['no targets', { targets: [] }, 'targets'],
    ['an empty target', { targets: ['a.example', ''] }, 'targets.1'],
    ['a target that is not a string', { targets: [42] }, 'targets.0'],
    ['a target of more than 4096 characters', { targets: ['x'.repeat(4097)] }, 'targets.0'],
    ['a blank reference', { reference: '   ' }, 'reference'],
    ['an issuedAt that is not ISO-8601', { issuedAt: 'yesterday' }, 'issuedAt'],
    ['an unknown action', { action: 'drop' }, 'action'],
    ['an override without a reason', { override: {} }, 'override.reason'],
  ])('refuses %s', async (_, patch, field) => {
    const r = await expectRefused(
      t,
      () => post({ ...order(['a.example']), ...patch }),
      400,
      'invalid_request',
    );
    expect(r.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it(`refuses more than ${MAX_ORDER_TARGETS} targets`, async () => {
    const targets = Array.from({ length: MAX_ORDER_TARGETS + 1 }, (_, i) => `n${i}.example`);
    const r = await expectRefused(t, () => post(order(targets)), 400, 'invalid_request');
    expect(r.body.error.details).toEqual([expect.objectContaining({ field: 'targets', code: 'too_big' })]);
  });

  it('refuses a body other than application/json with 415', async () => {
    const text = JSON.stringify(order(['a.example']));
    const types: Array<Record<string, string>> = [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      {},
    ];
    for (const headers of types) {
      await expectRefused(
        t,
        () => t.call('POST', '/v1/orders', { as: 'regulator', body: text, headers }),
        415,
        'unsupported_media_type',
      );
    }
  });

  it('refuses a body over the configured limit with 413', async () => {
    const small = await testApp({ bodyLimit: 2048 });
    try {
      const targets = Array.from({ length: 200 }, (_, i) => `target-${i}.example`);
      const r = await expectRefused(
        small,
        () => small.call('POST', '/v1/orders', { as: 'regulator', json: order(targets) }),
        413,
        'payload_too_large',
      );
      expect(r.body.error.message).toContain('2048');
      const fits = await small.call('POST', '/v1/orders', { as: 'regulator', json: order(['a.example']) });
      expect(fits.status).toBe(201);
    } finally {
      await small.close();
    }
  });

  it('answers 404 in the envelope for a route that does not exist', async () => {
    expectError(
      await t.call('POST', '/v1/order', { as: 'regulator', json: order(['a.example']) }),
      404,
      'route_not_found',
    );
  });
});
