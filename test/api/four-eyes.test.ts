import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFeedConsumer } from '../../src/core/consumer.ts';
import type { HubConfigInput } from '../../src/hub/config.ts';
import type { ChangeRecord } from '../../src/registry/types.ts';
import { eventually, expectRefused, runCli, type TestHub, testApp } from '../helpers/hub.ts';

// Four-eyes: high-impact orders wait for a second regulator, in no feed and no RPZ until approved.

let t: TestHub;
afterEach(() => t.close());

async function start(config: Partial<HubConfigInput> = {}) {
  t = await testApp({ config });
  await t.hub.feedsStarted;
}

const order = (targets: string[], extra: Record<string, unknown> = {}) => ({
  reference: 'BIG/2026',
  authority: 'MIC',
  category: 'fraud',
  reason: 'scam network',
  targets,
  ...extra,
});
const post = (body: unknown, query = '') =>
  t.call('POST', `/v1/orders${query}`, { as: 'regulator', json: body });

function secondRegulator(): string {
  const r = t.hub.registry.createToken('regulator', 'second-regulator');
  if (!r.ok) throw new Error(r.error.message);
  return r.value.token;
}

/** Whether the signed `dns` feed, as a sync agent receives it at the registry's version, blocks `expression`. */
async function dnsFeedBlocks(expression: string): Promise<boolean> {
  const version = await t.version();
  const auth = { authorization: `Bearer ${t.tokens.distributor}` };
  const consumer = createFeedConsumer('dns', [t.hub.signingKey.publicKey]);
  const snapshot = await t.hub.app.request('/v1/feeds/dns/snapshot', { headers: auth });
  expect(snapshot.status).toBe(200);
  const applied = await consumer.apply(new Uint8Array(await snapshot.arrayBuffer()), Date.now());
  expect(applied.ok).toBe(true);
  const from = Number(snapshot.headers.get('x-takedown-version'));
  if (from < version) {
    const delta = await eventually(async () => {
      const r = await t.hub.app.request(`/v1/feeds/dns/delta?since=${from}`, { headers: auth });
      return r.status === 200 && Number(r.headers.get('x-takedown-version')) === version ? r : undefined;
    }, `the dns delta to version ${version}`);
    expect((await consumer.apply(new Uint8Array(await delta.arrayBuffer()), Date.now())).ok).toBe(true);
  }
  return consumer.state?.isBlocked([expression]) ?? false;
}

/** The RPZ zone `takedown export` writes from the registry. */
async function rpz(): Promise<string> {
  const out = join(t.dataDir, `zone-${Date.now()}.rpz`);
  const run = await runCli(['export', '--format', 'rpz', '--out', out, '--data', t.dataDir]);
  expect(run.code).toBe(0);
  return readFile(out, 'utf8');
}

describe('an order of 10 000 targets', () => {
  it('stays pending in no feed and no RPZ, refuses self-approval, and appears once a second regulator approves', async () => {
    await start();
    expect((await post(order(['routine.example'], { reference: 'small' }))).status).toBe(201);
    const targets = Array.from({ length: 10_000 }, (_, i) => `scam-${i}.example`);
    const created = await post(order(targets));
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({
      pending: true,
      version: 1,
      order: {
        status: 'pending',
        version: null,
        entryCount: 10_000,
        approval: { reasons: [{ code: 'too_many_targets', message: '10000 targets, more than 1000' }] },
      },
      counts: { pending: 10_000, rejected: 0 },
    });
    const id = created.body.order.id as number;
    expect(await t.version()).toBe(1);
    expect(await dnsFeedBlocks('scam-7.example/')).toBe(false);
    expect(await dnsFeedBlocks('routine.example/')).toBe(true);
    expect(await rpz()).not.toContain('scam-7.example');
    const listed = await t.call('GET', '/v1/orders?status=pending', { as: 'auditor' });
    expect(listed.body.orders.map((o: { id: number }) => o.id)).toEqual([id]);

    await expectRefused(
      t,
      () => t.call('POST', `/v1/orders/${id}/approve`, { as: 'regulator', json: { reason: 'looks fine' } }),
      403,
      'self_approval',
    );
    await expectRefused(
      t,
      () => t.call('POST', `/v1/orders/${id}/approve`, { as: 'auditor', json: { reason: 'looks fine' } }),
      403,
      'forbidden',
    );

    const approved = await t.call('POST', `/v1/orders/${id}/approve`, {
      token: secondRegulator(),
      json: { reason: 'sampled 50 targets, all scam shops' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      version: 2,
      order: {
        status: 'active',
        version: 2,
        approval: { decision: 'approved', reason: 'sampled 50 targets, all scam shops' },
      },
      counts: { added: 10_000 },
    });
    expect(await t.version()).toBe(2);
    expect(await dnsFeedBlocks('scam-7.example/')).toBe(true);
    expect(await rpz()).toContain('scam-7.example CNAME .');
    const rows = (await t.call('GET', '/v1/audit?version=2&limit=2', { as: 'auditor' })).body
      .changes as ChangeRecord[];
    expect(rows[0]).toMatchObject({ op: 'approve', reason: 'sampled 50 targets, all scam shops' });
    expect(JSON.parse(rows[1]?.approval ?? '')).toMatchObject({
      decision: 'approved',
      by: expect.stringMatching(/^token:\d+:second-regulator$/),
      requestedBy: expect.stringMatching(/:test-regulator$/),
    });
    await expectRefused(
      t,
      () =>
        t.call('POST', `/v1/orders/${id}/approve`, { token: secondRegulator(), json: { reason: 'again' } }),
      409,
      'conflict',
    );
  });
});

describe('deciding on a pending order', () => {
  it('lets a second regulator reject it: recorded in the chain, nothing published', async () => {
    await start({ approvalMaxTargets: 2 });
    const created = await post(order(['x1.example', 'x2.example', 'x3.example']));
    expect(created.status).toBe(202);
    const id = created.body.order.id;
    await expectRefused(
      t,
      () => t.call('POST', `/v1/orders/${id}/reject`, { as: 'regulator', json: { reason: 'withdrawn' } }),
      403,
      'self_approval',
    );
    const rejected = await t.call('POST', `/v1/orders/${id}/reject`, {
      token: secondRegulator(),
      json: { reason: 'x2.example is a hospital' },
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ adds: 0, removes: 0, order: { status: 'rejected' } });
    const rows = (await t.call('GET', `/v1/audit?version=${rejected.body.version}`, { as: 'auditor' })).body
      .changes;
    expect(rows).toEqual([expect.objectContaining({ op: 'reject', reason: 'x2.example is a hospital' })]);
    expect((await t.call('GET', '/v1/explain?target=x1.example', { as: 'auditor' })).body.blocked).toBe(
      false,
    );
  });

  it('holds orders naming a popular or crowded name, and publishes small routine ones at once', async () => {
    const top = join(
      await import('node:os').then((os) => os.tmpdir()),
      `top-${process.pid}-${Date.now()}.txt`,
    );
    await writeFile(top, '# top sites\nbigshop.example\n');
    await start({ popularDomainsFile: top, approvalMaxSubdomains: 3 });
    const popular = await post(order(['cdn.bigshop.example']));
    expect(popular.status).toBe(202);
    expect(popular.body.order.approval.reasons).toEqual([
      { code: 'popular_target', message: 'popular: cdn.bigshop.example/' },
    ]);
    const routine = await post(
      order(['a.crowded.example', 'b.crowded.example', 'c.crowded.example', 'd.crowded.example']),
    );
    expect(routine.status).toBe(201);
    const crowded = await post(order(['e.crowded.example']));
    expect(crowded.status).toBe(202);
    expect(crowded.body.order.approval.reasons).toEqual([
      expect.objectContaining({
        code: 'crowded_domain',
        message: expect.stringMatching(/crowded\.example already has 4/),
      }),
    ]);
  });
});

describe('POST /v1/orders?dryRun=true', () => {
  it('answers per target what would happen, with the feeds that act and the approval, writing nothing', async () => {
    await start({ approvalMaxTargets: 3 });
    expect((await post(order(['held.example']))).status).toBe(201);
    expect((await post(order(['fp.example'], { reference: 'fp' }))).status).toBe(201);
    await t.call('POST', '/v1/orders/2/revoke', {
      as: 'regulator',
      json: { reason: 'false positive', release: true },
    });
    const before = await t.version();
    const r = await post(
      order(['held.example', 'new.example', 'http://new.example/login', 'fp.example', 'bad..name']),
      '?dryRun=true',
    );
    expect(r.status).toBe(200);
    expect(await t.version()).toBe(before);
    expect(r.body).toMatchObject({
      dryRun: true,
      version: before,
      refused: true,
      approval: { required: true, reasons: [expect.objectContaining({ code: 'too_many_targets' })] },
      counts: { added: 2, alreadyActive: 1, rejected: 2, rejectedByCode: { released: 1, empty_label: 1 } },
    });
    const byTarget = Object.fromEntries(r.body.results.map((x: { target: string }) => [x.target, x]));
    expect(byTarget['held.example']).toMatchObject({ status: 'already-active' });
    expect(byTarget['new.example']).toMatchObject({
      status: 'added',
      enforcement: {
        feeds: ['dns', 'url', 'filter'],
        points: ['rpz', 'unbound', 'dnsmasq', 'hosts', 'squid-url', 'squid', 'edge'],
      },
    });
    expect(byTarget['http://new.example/login']).toMatchObject({
      status: 'added',
      enforcement: { feeds: ['url', 'filter'] },
    });
    expect(byTarget['fp.example']).toMatchObject({
      status: 'rejected',
      code: 'released',
      release: { orderId: 2 },
    });
    expect(byTarget['bad..name']).toMatchObject({ status: 'rejected', code: 'empty_label' });
    const csam = await post(order(['hidden.example'], { category: 'csam' }), '?dryRun=true');
    expect(csam.body.results[0].enforcement).toEqual({ feeds: ['filter'], points: ['edge'] });
    expect((await t.call('GET', '/v1/orders', { as: 'auditor' })).body.orders).toHaveLength(2);
  });
});
