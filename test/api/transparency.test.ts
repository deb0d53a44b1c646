import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestHub, testApp } from '../helpers/hub.ts';

describe('the public transparency report', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await testApp();
    const order = (reference: string, authority: string, category: string, targets: string[]) =>
      t.call('POST', '/v1/orders', {
        as: 'regulator',
        json: { reference, authority, category, reason: `ruling ${reference}`, targets },
      });
    expect((await order('A/1', 'MIC', 'phishing', ['evil.example', 'bad.example'])).status).toBe(201);
    expect((await order('B/2', 'Court', 'gambling', ['casino.example'])).status).toBe(201);
    expect((await order('S/1', 'MIC', 'csam', ['hidden.example'])).status).toBe(201);
    expect(
      (await t.call('POST', '/v1/orders/1/revoke', { as: 'regulator', json: { reason: 'lifted' } })).status,
    ).toBe(200);
  });
  afterAll(() => t.close());

  it('GET /v1/transparency: counts per month, authority and category; confidential orders only counted', async () => {
    const r = await t.call('GET', '/v1/transparency');
    expect(r.status).toBe(200);
    const month = new Date().toISOString().slice(0, 7);
    expect(r.body.orders).toEqual([
      { month, authority: 'Court', category: 'gambling', count: 1 },
      { month, authority: 'MIC', category: 'csam', count: 1 },
      { month, authority: 'MIC', category: 'phishing', count: 1 },
    ]);
    expect(r.body.entries).toEqual([{ month, added: 4, removed: 2 }]);
    expect(r.body.recentOrders.map((o: { reference: string }) => o.reference)).toEqual(['B/2', 'A/1']);
    expect(r.body.checkpoint).toMatchObject({ version: 4, treeSize: 10 });
    expect(r.body.confidentialCategories).toEqual(['csam']);
    expect(r.body.verify.publicKeys).toHaveLength(1);
    expect(JSON.stringify(r.body)).not.toMatch(/hidden\.example|S\/1/);
  });

  it('GET /transparency: a server-rendered page without script, the same facts, no confidential name', async () => {
    const r = await t.call('GET', '/transparency');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.headers.get('content-security-policy')).toBe("default-src 'none'");
    const page = r.body as string;
    expect(page).not.toMatch(/<script/i);
    expect(page).toContain('<td>Court</td><td>gambling</td>');
    expect(page).toContain('<td>csam</td><td>1</td>');
    expect(page).toContain('takedown log verify --hub URL --key signing.pub');
    expect(page).toMatch(/Registry version 4, 10 leaves/);
    expect(page).not.toMatch(/hidden\.example|S\/1/);
  });

  it('escapes what a regulator typed', async () => {
    await t.call('POST', '/v1/orders', {
      as: 'regulator',
      json: { reference: '<b>X</b>', authority: 'MIC', category: 'fraud', targets: ['x.example'] },
    });
    const page = (await t.call('GET', '/transparency')).body as string;
    expect(page).toContain('&lt;b&gt;X&lt;/b&gt;');
    expect(page).not.toContain('<b>X</b>');
  });
});
