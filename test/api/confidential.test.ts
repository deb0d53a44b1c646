import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TokenRole } from '../../src/registry/types.ts';
import { type TestHub, testApp } from '../helpers/hub.ts';

// Confidential categories (csam by default) stay confidential: a distributor learns `blocked`, nothing more.

let t: TestHub;
beforeEach(async () => {
  t = await testApp();
  const json = {
    reference: 'CSAM/2026/17',
    authority: 'Child Protection Unit',
    category: 'csam',
    targets: ['hidden.example'],
  };
  expect((await t.call('POST', '/v1/orders', { as: 'regulator', json })).status).toBe(201);
  const plain = { reference: 'PH/1', authority: 'MIC', category: 'phishing', targets: ['phish.example'] };
  expect((await t.call('POST', '/v1/orders', { as: 'regulator', json: plain })).status).toBe(201);
});
afterEach(() => t.close());

const explain = (as: TokenRole) => t.call('GET', '/v1/explain?target=http://www.hidden.example/a', { as });
const check = (as: TokenRole) =>
  t.call('POST', '/v1/check', {
    as,
    json: { targets: ['http://hidden.example/x', 'https://phish.example/'] },
  });

describe('a csam target', () => {
  it('is only `blocked` to a distributor, through explain and check', async () => {
    const e = await explain('distributor');
    expect(e.status).toBe(200);
    expect(e.body).toMatchObject({ blocked: true, matches: [] });
    expect(e.body.history).toBeUndefined();
    const text = JSON.stringify(e.body);
    for (const secret of ['csam', 'CSAM/2026/17', 'Child Protection Unit'])
      expect(text).not.toContain(secret);

    const c = await check('distributor');
    expect(c.body.results[0]).toEqual({ target: 'http://hidden.example/x', blocked: true });
    // Other categories keep their explanation.
    expect(c.body.results[1]).toMatchObject({ blocked: true, matches: [{ category: 'phishing' }] });
    expect(JSON.stringify(c.body)).not.toContain('csam');
  });

  it.each(['regulator', 'auditor', 'admin'] as const)('is shown whole to %s', async (role) => {
    const e = await explain(role);
    expect(e.body.matches).toEqual([
      expect.objectContaining({
        category: 'csam',
        orders: [expect.objectContaining({ reference: 'CSAM/2026/17', authority: 'Child Protection Unit' })],
      }),
    ]);
    expect(e.body.history).toHaveLength(1);
    const c = await check(role);
    expect(c.body.results[0]).toMatchObject({
      blocked: true,
      matches: [{ category: 'csam', orders: [{ reference: 'CSAM/2026/17' }] }],
    });
  });
});
