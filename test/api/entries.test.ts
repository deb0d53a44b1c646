import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectRefused, type TestHub, testApp } from '../helpers/hub.ts';

// GET /v1/entries (search) and POST /v1/entries/revoke (one entry out of every order holding it).

let t: TestHub;
let phishingOrder: number;
let malwareOrder: number;

const PHISHING = [
  'bank-login.example',
  'bank-login.example/secure/',
  'pay.example/checkout?id=7',
  'wallet.example',
];
const MALWARE = ['dropper.example', 'cdn.dropper.example/payload.exe', 'wallet.example'];

beforeAll(async () => {
  t = await testApp();
  const post = async (category: string, targets: string[]) => {
    const json = { reference: `REF-${category}`, authority: 'Authority', category, targets };
    const r = await t.call('POST', '/v1/orders', { as: 'regulator', json });
    expect(r.status).toBe(201);
    return r.body.order.id as number;
  };
  phishingOrder = await post('phishing', PHISHING);
  malwareOrder = await post('malware', MALWARE);
});
afterAll(() => t.close());

type EntryView = {
  expression: string;
  active: boolean;
  orderId: number | null;
  category: string;
  kind: string;
};
const search = async (query: string) => {
  const r = await t.call('GET', `/v1/entries${query}`, { as: 'auditor' });
  expect(r.status).toBe(200);
  return r.body as { entries: EntryView[]; nextCursor: string | null };
};
const expressions = async (query: string) => (await search(query)).entries.map((e) => e.expression);

describe('GET /v1/entries', () => {
  it('lists every entry sorted by expression', async () => {
    expect(await expressions('')).toEqual([
      'bank-login.example/',
      'bank-login.example/secure/',
      'cdn.dropper.example/payload.exe',
      'dropper.example/',
      'pay.example/checkout?id=7',
      'wallet.example/',
    ]);
  });

  it('filters by substring, prefix, kind, category and order', async () => {
    expect(await expressions('?q=LOGIN')).toEqual(['bank-login.example/', 'bank-login.example/secure/']);
    expect(await expressions('?q=%25')).toEqual([]);
    expect(await expressions(`?prefix=${encodeURIComponent('bank-login.example/')}`)).toEqual([
      'bank-login.example/',
      'bank-login.example/secure/',
    ]);
    expect(await expressions('?kind=url')).toEqual([
      'bank-login.example/secure/',
      'cdn.dropper.example/payload.exe',
      'pay.example/checkout?id=7',
    ]);
    expect(await expressions('?category=malware&kind=domain')).toEqual(['dropper.example/']);
    // wallet.example/ belongs to both orders; its effective category is the oldest order's.
    expect((await search(`?q=wallet`)).entries[0]).toMatchObject({
      category: 'phishing',
      orderId: phishingOrder,
    });
    // Within one order, entries come by entry id: wallet.example/ existed before this order.
    expect(await expressions(`?orderId=${malwareOrder}`)).toEqual([
      'wallet.example/',
      'dropper.example/',
      'cdn.dropper.example/payload.exe',
    ]);
  });

  it('walks all pages with the cursor and gives the same entries as one page', async () => {
    const all = (await search('')).entries;
    const seen: EntryView[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await search(`?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.entries);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(2);
    expect(seen).toEqual(all);
  });

  it('refuses a bad cursor, a cursor of another listing and unknown filters', async () => {
    const { nextCursor } = await search(`?orderId=${phishingOrder}&limit=1`);
    expect(nextCursor).not.toBeNull();
    expectError(
      await t.call('GET', `/v1/entries?cursor=${nextCursor}`, { as: 'auditor' }),
      400,
      'bad_cursor',
    );
    expectError(await t.call('GET', '/v1/entries?cursor=not-a-cursor', { as: 'auditor' }), 400, 'bad_cursor');
    for (const q of ['kind=ip', 'active=yes', 'orderId=x', 'category=spam', 'host=a.example']) {
      expectError(await t.call('GET', `/v1/entries?${q}`, { as: 'auditor' }), 400, 'invalid_request');
    }
  });
});

describe('POST /v1/entries/revoke', () => {
  const revoke = (json: unknown) => t.call('POST', '/v1/entries/revoke', { as: 'regulator', json });
  const explain = async (target: string) =>
    (await t.call('GET', `/v1/explain?target=${encodeURIComponent(target)}`, { as: 'auditor' })).body.blocked;

  it('removes an entry from every order holding it, in a new version', async () => {
    const before = await t.version();
    // Any target form that canonicalizes to the entry names it.
    const r = await revoke({ target: 'HTTPS://WALLET.example./', reason: 'site cleaned' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      version: before + 1,
      removes: 1,
      entry: { expression: 'wallet.example/', active: false, orderId: 1 },
    });
    expect(await explain('wallet.example')).toBe(false);
    for (const id of [phishingOrder, malwareOrder]) {
      const { body } = await t.call('GET', `/v1/orders/${id}`, { as: 'auditor' });
      expect(body.order.status).toBe('active');
      expect(body.entries.find((e: EntryView) => e.expression === 'wallet.example/')).toMatchObject({
        linkStatus: 'removed',
        removedReason: 'site cleaned',
      });
    }
    expect(await expressions('?active=false')).toEqual(['wallet.example/']);
    const log = await t.call('GET', `/v1/audit?version=${before + 1}`, { as: 'auditor' });
    expect(log.body.changes).toEqual([
      expect.objectContaining({
        op: 'remove',
        expression: 'wallet.example/',
        note: '{"reason":"site cleaned"}',
      }),
    ]);
    expect(await explain('bank-login.example')).toBe(true);
  });

  it('refuses an inactive entry (409), an unknown one (404) and a missing reason (400)', async () => {
    await expectRefused(t, () => revoke({ target: 'wallet.example', reason: 'again' }), 409, 'conflict');
    await expectRefused(t, () => revoke({ target: 'never-listed.example', reason: 'x' }), 404, 'not_found');
    await expectRefused(t, () => revoke({ target: 'dropper.example' }), 400, 'invalid_request');
    await expectRefused(
      t,
      () => revoke({ target: 'dropper.example', reason: 'x', all: true }),
      400,
      'invalid_request',
    );
    expect(await explain('dropper.example')).toBe(true);
  });
});
