import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectError, expectRefused, type TestHub, testApp } from '../helpers/hub.ts';

// Typos are refused, not rewritten: empty labels, bad punycode, invalid UTF-8, non-decimal ids, unknown query
// parameters, dates.

let t: TestHub;
beforeEach(async () => {
  t = await testApp();
});
afterEach(() => t.close());

const order = (targets: string[], extra: Record<string, unknown> = {}) => ({
  reference: 'R/1',
  authority: 'MIC',
  category: 'phishing',
  targets,
  ...extra,
});
const post = (body: unknown) => t.call('POST', '/v1/orders', { as: 'regulator', json: body });
const send = (path: string, body: Buffer) =>
  t.call('POST', path, {
    as: 'regulator',
    body: body as unknown as string,
    headers: { 'content-type': 'application/json' },
  });

describe('targets', () => {
  it.each([
    ['bad..name', 'empty_label'],
    ['.bad.name', 'empty_label'],
    ['http://bad..name/login', 'empty_label'],
    ['bad\u3002\u3002name', 'empty_label'],
    ['xn--.com', 'invalid_punycode'],
    ['xn--zzzzzzzz.com', 'invalid_punycode'],
    ['https://xn--zzzzzzzz.com/x', 'invalid_punycode'],
    // decodes to `ab`, which is written `ab`, not `xn--ab-`
    ['xn--ab-.com', 'invalid_punycode'],
    ['evil\ufffd.example', 'invalid_utf8'],
  ])('refuses %s with %s, and writes nothing', async (target, code) => {
    const r = await expectRefused(t, () => post(order([target, 'fine.example'])), 422, 'targets_rejected');
    expect(r.body.error.details[0]).toMatchObject({ target, status: 'rejected', code });
    expect(r.body.error.details[1]).toMatchObject({ status: 'accepted' });
  });

  it('still accepts the absolute form, valid punycode and IDNs', async () => {
    const r = await post(order(['evil.example.', 'xn--bcher-kva.example', 'Bücher.example', 'xn--ls8h.la']));
    expect(r.status).toBe(201);
    expect(r.body.results.map((x: { expression: string }) => x.expression)).toEqual([
      'evil.example/',
      'xn--bcher-kva.example/',
      'xn--bcher-kva.example/',
      'xn--ls8h.la/',
    ]);
  });
});

describe('invalid UTF-8', () => {
  it('refuses a body with invalid UTF-8 in a reason or a target, storing nothing', async () => {
    const json = JSON.stringify(order(['ok.example'], { reason: 'bad: @' }));
    const body = Buffer.from(json, 'utf8');
    body[body.indexOf('@')] = 0xff;
    const r = await expectRefused(t, () => send('/v1/orders', body), 400, 'invalid_utf8');
    expect(r.body.error.details).toEqual([expect.objectContaining({ in: 'body' })]);
    expect((await t.call('GET', '/v1/orders', { as: 'auditor' })).body.orders).toEqual([]);
    expect((await post(order(['ok.example']))).status).toBe(201);
    const revoke = Buffer.from(JSON.stringify({ reason: 'x@y' }));
    revoke[revoke.indexOf('@')] = 0xc3;
    await expectRefused(t, () => send('/v1/orders/1/revoke', revoke), 400, 'invalid_utf8');
  });

  it('refuses a query parameter whose escapes are not UTF-8', async () => {
    const r = await t.call('GET', '/v1/explain?target=evil%FF.example', { as: 'auditor' });
    expectError(r, 400, 'invalid_utf8');
    expect(r.body.error.details).toEqual([expect.objectContaining({ field: 'target', in: 'query' })]);
  });
});

describe('ids and query parameters', () => {
  it('takes decimal ids only', async () => {
    expect((await post(order(['one.example']))).status).toBe(201);
    for (const id of ['0x1', '1e0', '01', '+1', '1.0', '%201']) {
      await expectRefused(
        t,
        () => t.call('POST', `/v1/orders/${id}/revoke`, { as: 'regulator', json: { reason: 'typo' } }),
        400,
        'invalid_request',
      );
    }
    expect((await t.call('GET', '/v1/orders/1', { as: 'auditor' })).status).toBe(200);
  });

  it('reports unknown query parameters as query errors', async () => {
    const r = await t.call('GET', '/v1/orders?status=active&sort=asc', { as: 'auditor' });
    expectError(r, 400, 'invalid_request');
    expect(r.body.error.message).toBe('query sort: unknown query parameter');
    expect(r.body.error.details).toEqual([
      { field: 'sort', in: 'query', reason: 'unknown query parameter', code: 'unrecognized_keys' },
    ]);
    const dry = await t.call('POST', '/v1/orders?dryrun=true', {
      as: 'regulator',
      json: order(['a.example']),
    });
    expectError(dry, 400, 'invalid_request');
    expect(dry.body.error.details[0]).toMatchObject({ field: 'dryrun', in: 'query' });
  });
});

describe('dates', () => {
  it('reads a bare date as the end of that day in Asia/Ho_Chi_Minh, and takes full ISO times', async () => {
    const r = await post(order(['dated.example'], { expiresAt: '2099-05-31', issuedAt: '2026-05-01' }));
    expect(r.status).toBe(201);
    expect(r.body.order).toMatchObject({
      expiresAt: '2099-05-31T16:59:59.999Z',
      issuedAt: '2026-04-30T17:00:00.000Z',
    });
    const iso = await post(order(['iso.example'], { expiresAt: '2099-05-31T10:00:00+07:00' }));
    expect(iso.body.order.expiresAt).toBe('2099-05-31T03:00:00.000Z');
    for (const expiresAt of ['31/05/2099', '2099-02-30', 'next week', '2099-05-31T10:00']) {
      await expectRefused(t, () => post(order(['x.example'], { expiresAt })), 400, 'invalid_request');
    }
  });

  it('reads bare dates in the configured zone', async () => {
    await t.close();
    t = await testApp({ config: { timeZone: 'Europe/Berlin' } });
    const r = await post(order(['berlin.example'], { expiresAt: '2099-07-01' }));
    expect(r.body.order.expiresAt).toBe('2099-07-01T21:59:59.999Z');
  });
});
