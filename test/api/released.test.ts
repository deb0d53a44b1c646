import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeRecord } from '../../src/registry/types.ts';
import { expectError, expectRefused, runCli, type TestHub, testApp } from '../helpers/hub.ts';

// A revocation as a false positive sticks: released targets, decisions in the chain, history kept on revoke.

let t: TestHub;
beforeEach(async () => {
  t = await testApp();
});
afterEach(() => t.close());

const order = (targets: string[], extra: Record<string, unknown> = {}) => ({
  reference: '5167/BTTTT-CATTT',
  authority: 'MIC',
  category: 'phishing',
  targets,
  ...extra,
});
const post = (body: unknown, as: 'regulator' | 'admin' = 'regulator') =>
  t.call('POST', '/v1/orders', { as, json: body });
const audit = async (query = '') =>
  (await t.call('GET', `/v1/audit${query}`, { as: 'auditor' })).body.changes as ChangeRecord[];
const explain = (target: string, as: 'regulator' | 'auditor' | 'distributor' = 'auditor') =>
  t.call('GET', `/v1/explain?target=${encodeURIComponent(target)}`, { as });

/** A second regulator's token (the first one created every order of these tests). */
function secondRegulator(): string {
  const r = t.hub.registry.createToken('regulator', 'second-regulator');
  if (!r.ok) throw new Error(r.error.message);
  return r.value.token;
}

describe('released entries', () => {
  it('refuses a re-import of an entry revoked as a false positive, naming the release', async () => {
    expect((await post(order(['0046.paypal-merchant.ru', 'other.example']))).status).toBe(201);
    const revoke = await t.call('POST', '/v1/entries/revoke', {
      as: 'regulator',
      json: { target: '0046.paypal-merchant.ru', reason: 'false positive, owner appeal', release: true },
    });
    expect(revoke.status).toBe(200);
    const r = await expectRefused(
      t,
      () => post(order(['0046.paypal-merchant.ru', 'new.example'], { reference: 'again' })),
      422,
      'targets_rejected',
    );
    expect(r.body.error.message).toMatch(/1 released/);
    expect(r.body.error.details[0]).toMatchObject({
      target: '0046.paypal-merchant.ru',
      status: 'rejected',
      code: 'released',
      release: {
        orderId: 1,
        version: 2,
        releasedAt: expect.any(String),
        reason: 'false positive, owner appeal',
      },
    });
    expect(r.body.error.details[1]).toMatchObject({ target: 'new.example', status: 'accepted' });
  });

  it('refuses the same name in a CLI import of the list, counted per code', async () => {
    expect((await post(order(['0046.paypal-merchant.ru']))).status).toBe(201);
    const revoke = { reason: 'false positive, owner appeal', release: true };
    expect((await t.call('POST', '/v1/orders/1/revoke', { as: 'regulator', json: revoke })).status).toBe(200);
    const list = join(t.dataDir, 'list.txt');
    await writeFile(list, '0046.paypal-merchant.ru\nfresh.example\n');
    const run = await runCli([
      ...['import', list, '--reference', 'L', '--authority', 'MIC', '--category', 'fraud'],
      ...['--data', t.dataDir],
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/0046\.paypal-merchant\.ru: released/);
    expect(run.stderr).toMatch(/refused by code: 1 released/);
    expect(await t.version()).toBe(2);
  });

  it('accepts a released target again only with an override, whose reason lands in the chain', async () => {
    expect((await post(order(['wrongly.example']))).status).toBe(201);
    await t.call('POST', '/v1/orders/1/revoke', {
      as: 'regulator',
      json: { reason: 'false positive', release: true },
    });
    const overriding = order(['wrongly.example'], {
      reference: 'second look',
      override: { reason: 'new evidence: court ruling 99/2026' },
    });
    const pending = await post(overriding);
    // An override is high impact: a second regulator has to approve it.
    expect(pending.status).toBe(202);
    expect(pending.body.order.approval.reasons).toEqual([expect.objectContaining({ code: 'override' })]);
    const approved = await t.call('POST', `/v1/orders/${pending.body.order.id}/approve`, {
      token: secondRegulator(),
      json: { reason: 'read the ruling' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body.results).toEqual([
      expect.objectContaining({ status: 'added', rails: ['released'] }),
    ]);
    const add = (await audit(`?version=${approved.body.version}`)).find((c) => c.op === 'add');
    expect(add).toMatchObject({
      expression: 'wrongly.example/',
      reason: 'new evidence: court ruling 99/2026',
      approval: expect.stringContaining('"decision":"approved"'),
    });
    expect(JSON.parse(add?.note ?? '')).toEqual({
      override: ['released'],
      reason: 'new evidence: court ruling 99/2026',
    });
  });

  it('lists released targets, and a regulator can un-release one (recorded in the chain)', async () => {
    expect((await post(order(['a.example', 'b.example', 'c.example']))).status).toBe(201);
    const revoked = await t.call('POST', '/v1/orders/1/revoke', {
      as: 'regulator',
      json: { reason: 'wrong list', release: true },
    });
    expect(revoked.status).toBe(200);
    const listed = await t.call('GET', '/v1/released?q=b.ex', { as: 'auditor' });
    expect(listed.body.released).toEqual([
      expect.objectContaining({ expression: 'b.example/', active: true, orderId: 1, reason: 'wrong list' }),
    ]);
    expectError(
      await t.call('POST', '/v1/released/unrelease', {
        as: 'auditor',
        json: { target: 'b.example', reason: 'x' },
      }),
      403,
      'forbidden',
    );
    const un = await t.call('POST', '/v1/released/unrelease', {
      as: 'regulator',
      json: { target: 'B.example', reason: 'the owner sold the domain to a phisher' },
    });
    expect(un.status).toBe(200);
    expect(un.body.released).toMatchObject({
      active: false,
      unreleasedReason: 'the owner sold the domain to a phisher',
      unreleasedVersion: un.body.version,
    });
    const rows = await audit(`?version=${un.body.version}`);
    expect(rows).toEqual([
      expect.objectContaining({
        op: 'unrelease',
        expression: 'b.example/',
        reason: 'the owner sold the domain to a phisher',
      }),
    ]);
    expect((await post(order(['b.example'], { reference: 'again' }))).status).toBe(201);
    expect((await t.call('GET', '/v1/released?active=true', { as: 'auditor' })).body.released).toHaveLength(
      2,
    );
    await expectRefused(
      t,
      () =>
        t.call('POST', '/v1/released/unrelease', {
          as: 'regulator',
          json: { target: 'b.example', reason: 'again' },
        }),
      404,
      'not_found',
    );
  });
});

describe('every decision in the chain', () => {
  it('puts the reason and the release of an order revocation on a revoke row and on every row it writes', async () => {
    expect((await post(order(['one.example', 'two.example']))).status).toBe(201);
    await t.call('POST', '/v1/orders/1/revoke', {
      as: 'regulator',
      json: { reason: 'false positive, owner appeal', release: true },
    });
    const rows = await audit('?version=2');
    expect(rows.map((c) => [c.op, c.expression, c.reason, c.release])).toEqual([
      ['revoke', '', 'false positive, owner appeal', true],
      ['remove', 'one.example/', 'false positive, owner appeal', true],
      ['remove', 'two.example/', 'false positive, owner appeal', true],
    ]);
    expect(t.hub.registry.verifyChain()).toEqual({ ok: true, rows: 5 });
  });

  it('records an extension with its new expiry and reason', async () => {
    expect((await post(order(['ext.example']))).status).toBe(201);
    const r = await t.call('POST', '/v1/orders/1/extend', {
      as: 'regulator',
      json: { expiresAt: '2099-12-31', reason: 'court extended the order' },
    });
    expect(r.status).toBe(200);
    // A bare date ends at the end of that day in Asia/Ho_Chi_Minh (UTC+7).
    expect(r.body.order.expiresAt).toBe('2099-12-31T16:59:59.999Z');
    expect(await audit(`?version=${r.body.version}`)).toEqual([
      expect.objectContaining({
        op: 'extend',
        reason: 'court extended the order',
        note: JSON.stringify({ expiresAt: '2099-12-31T16:59:59.999Z' }),
      }),
    ]);
  });
});

describe('history is kept on revoke', () => {
  it('keeps the order of inactive entries, in the order view, in /v1/entries and in explain', async () => {
    expect((await post(order(['gone.example', 'http://gone2.example/x']))).status).toBe(201);
    expect((await post(order(['gone.example'], { reference: 'later', category: 'fraud' }))).status).toBe(201);
    await t.call('POST', '/v1/orders/2/revoke', { as: 'regulator', json: { reason: 'appeal granted' } });
    await t.call('POST', '/v1/orders/1/revoke', { as: 'regulator', json: { reason: 'lifted by court' } });

    const one = await t.call('GET', '/v1/orders/1', { as: 'auditor' });
    expect(one.body.entries.map((e: { orderId: number }) => e.orderId)).toEqual([1, 1]);
    const inactive = await t.call('GET', '/v1/entries?active=false', { as: 'auditor' });
    expect(inactive.body.entries.map((e: { orderId: number }) => e.orderId)).toEqual([1, 1]);

    const r = await explain('http://www.gone.example/page');
    expect(r.body.blocked).toBe(false);
    expect(r.body.history).toEqual([
      expect.objectContaining({
        expression: 'gone.example/',
        entry: expect.objectContaining({ active: false, orderId: 1 }),
        orders: [
          expect.objectContaining({ id: 1, status: 'revoked', revokeReason: 'lifted by court' }),
          expect.objectContaining({ id: 2, status: 'revoked', revokeReason: 'appeal granted' }),
        ],
        released: null,
      }),
    ]);
  });

  it('shows the release of a target in its history', async () => {
    expect((await post(order(['fp.example']))).status).toBe(201);
    await t.call('POST', '/v1/entries/revoke', {
      as: 'regulator',
      json: { target: 'fp.example', reason: 'owner appeal', release: true },
    });
    const r = await explain('fp.example', 'regulator');
    expect(r.body.history[0]).toMatchObject({
      orders: [
        expect.objectContaining({
          id: 1,
          status: 'active',
          linkStatus: 'removed',
          removedReason: 'owner appeal',
        }),
      ],
      released: expect.objectContaining({ active: true, reason: 'owner appeal', orderId: 1 }),
    });
  });
});
