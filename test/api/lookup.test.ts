import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CHECK_TARGETS } from '../../src/api/schemas.ts';
import { expectError, type TestHub, testApp } from '../helpers/hub.ts';

// GET /v1/explain and POST /v1/check: what the registry says about a URL, and why.

let t: TestHub;
let first: number;
let second: number;

beforeAll(async () => {
  t = await testApp();
  const post = async (reference: string, targets: string[]) => {
    const json = { reference, authority: 'Authority', category: 'phishing', targets };
    const r = await t.call('POST', '/v1/orders', { as: 'regulator', json });
    expect(r.status).toBe(201);
    return r.body.order.id as number;
  };
  first = await post('FIRST', ['evil.example', 'host.example/phish/login.php', 'pay.example/checkout?id=7']);
  second = await post('SECOND', ['evil.example', 'kit.example/panel/', 'http://192.0.2.1/phish/']);
});
afterAll(() => t.close());

const explain = (target: string, as: 'auditor' | 'distributor' = 'auditor') =>
  t.call('GET', `/v1/explain?target=${encodeURIComponent(target)}`, { as });
const check = (targets: unknown[]) => t.call('POST', '/v1/check', { as: 'distributor', json: { targets } });

describe('GET /v1/explain', () => {
  it('shows a bare domain as http://name/ and names every order holding the match', async () => {
    const r = await explain('EVIL.example.');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      target: 'EVIL.example.',
      canonical: 'http://evil.example/',
      expressions: ['evil.example/'],
      blocked: true,
      version: 2,
    });
    expect(r.body.matches).toHaveLength(1);
    expect(r.body.matches[0]).toMatchObject({ expression: 'evil.example/', kind: 'domain', active: true });
    expect(
      r.body.matches[0].orders.map((o: { id: number; reference: string }) => [o.id, o.reference]),
    ).toEqual([
      [first, 'FIRST'],
      [second, 'SECOND'],
    ]);
  });

  it('canonicalizes a URL Safe Browsing style and lists its lookup expressions', async () => {
    const r = await explain('HTTPS://WWW.Evil.Example:443/a/./b/../c?x=1#fragment');
    expect(r.body.canonical).toBe('https://www.evil.example/a/c?x=1');
    expect(r.body.expressions).toEqual([
      'www.evil.example/a/c?x=1',
      'www.evil.example/a/c',
      'www.evil.example/',
      'www.evil.example/a/',
      'evil.example/a/c?x=1',
      'evil.example/a/c',
      'evil.example/',
      'evil.example/a/',
    ]);
    expect(r.body.blocked).toBe(true);
    expect(r.body.matches.map((m: { expression: string }) => m.expression)).toEqual(['evil.example/']);
  });

  it('matches an IP URL entry through any spelling of the address', async () => {
    const r = await explain('http://3221225985/phish/kit/index.html');
    expect(r.body.canonical).toBe('http://192.0.2.1/phish/kit/index.html');
    expect(r.body.blocked).toBe(true);
    expect(r.body.matches[0]).toMatchObject({ expression: '192.0.2.1/phish/', kind: 'url' });
  });

  it('answers blocked:false with no matches for a clean URL, to any token', async () => {
    const r = await explain('https://clean.example/', 'distributor');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ canonical: 'https://clean.example/', blocked: false, matches: [] });
  });

  it.each([
    ['ftp://files.example/x', 'unsupported_scheme'],
    ['javascript:alert(1)', 'unsupported_scheme'],
    ['http://[::1/', 'invalid_host'],
    ['http://', 'invalid_host'],
  ])('answers 422 for %s, which cannot be canonicalized', async (target, code) => {
    const r = await explain(target);
    expectError(r, 422, code);
    expect(r.body.error.details).toEqual([expect.objectContaining({ field: 'target' })]);
  });

  it('says which enforcement points block a target and why the others cannot', async () => {
    type Point = { point: string; blocked: boolean; reason: string };
    const points = async (target: string) =>
      Object.fromEntries(
        ((await explain(target)).body.enforcement as Point[]).map((p) => [p.point, p]),
      ) as Record<'edge' | 'proxy' | 'dns' | 'hosts', Point>;
    const exact = await points('http://evil.example/');
    expect([exact.edge.blocked, exact.proxy.blocked, exact.dns.blocked, exact.hosts.blocked]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    const sub = await points('http://a.b.c.d.e.f.evil.example/x');
    expect([sub.edge.blocked, sub.proxy.blocked, sub.dns.blocked, sub.hosts.blocked]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(sub.hosts.reason).toContain('exact names only');
    const page = await points('http://host.example/phish/login.php');
    expect([page.edge.blocked, page.proxy.blocked, page.dns.blocked]).toEqual([true, true, false]);
    expect(page.dns.reason).toContain(
      'url entry host.example/phish/login.php: enforced by proxies and edge workers, not by DNS',
    );
    const ip = await points('http://192.0.2.1/phish/x');
    expect(ip.dns).toMatchObject({
      blocked: false,
      reason: 'an IP literal: DNS answers names, not addresses',
    });
    const clean = await points('http://clean.example/');
    expect(Object.values(clean).every((p) => !p.blocked && p.reason === 'no active entry matches')).toBe(
      true,
    );
  });

  it('answers 400 without a target', async () => {
    expectError(await t.call('GET', '/v1/explain', { as: 'auditor' }), 400, 'invalid_request');
    expectError(await t.call('GET', '/v1/explain?target=', { as: 'auditor' }), 400, 'invalid_request');
  });
});

describe('POST /v1/check', () => {
  const verdicts = async (targets: string[]) => {
    const r = await check(targets);
    expect(r.status).toBe(200);
    expect(r.body.version).toBe(2);
    expect(r.body.results.map((x: { target: string }) => x.target)).toEqual(targets);
    return Object.fromEntries(
      r.body.results.map((x: { target: string; blocked: boolean }) => [x.target, x.blocked]),
    );
  };

  it('blocks every sub-domain and page of a blocked domain', async () => {
    expect(
      await verdicts([
        'evil.example',
        'a.b.c.evil.example',
        'https://deep.evil.example/x/y?z=1',
        'notevil.example',
      ]),
    ).toEqual({
      'evil.example': true,
      'a.b.c.evil.example': true,
      'https://deep.evil.example/x/y?z=1': true,
      'notevil.example': false,
    });
  });

  it('blocks a listed URL but not another page on the same host, nor the host itself', async () => {
    expect(
      await verdicts([
        'http://host.example/phish/login.php',
        'http://host.example/phish/login.php?session=1',
        'http://host.example/phish/other.php',
        'http://host.example/',
        'host.example',
        'https://pay.example/checkout?id=7',
        'https://pay.example/checkout?id=8',
        'https://pay.example/checkout',
      ]),
    ).toEqual({
      'http://host.example/phish/login.php': true,
      'http://host.example/phish/login.php?session=1': true,
      'http://host.example/phish/other.php': false,
      'http://host.example/': false,
      'host.example': false,
      'https://pay.example/checkout?id=7': true,
      'https://pay.example/checkout?id=8': false,
      'https://pay.example/checkout': false,
    });
  });

  it('blocks everything below a path-prefix entry', async () => {
    expect(
      await verdicts([
        'kit.example/panel/',
        'https://www.kit.example/panel/admin/x.php',
        'kit.example/panelx',
        'kit.example/',
      ]),
    ).toEqual({
      'kit.example/panel/': true,
      'https://www.kit.example/panel/admin/x.php': true,
      'kit.example/panelx': false,
      'kit.example/': false,
    });
  });

  it('explains each hit and reports targets it cannot canonicalize without failing the batch', async () => {
    const r = await check(['sub.evil.example', 'ftp://x.example/', 'clean.example']);
    const [hit, bad, clean] = r.body.results;
    expect(hit).toEqual({
      target: 'sub.evil.example',
      blocked: true,
      matches: [
        {
          expression: 'evil.example/',
          kind: 'domain',
          category: 'phishing',
          action: 'block',
          orders: [
            { id: first, reference: 'FIRST', authority: 'Authority' },
            { id: second, reference: 'SECOND', authority: 'Authority' },
          ],
        },
      ],
    });
    expect(bad).toMatchObject({
      target: 'ftp://x.example/',
      blocked: false,
      error: { code: 'unsupported_scheme' },
    });
    expect(clean).toEqual({ target: 'clean.example', blocked: false });
  });

  it(`takes up to ${MAX_CHECK_TARGETS} targets and refuses more`, async () => {
    const many = Array.from({ length: MAX_CHECK_TARGETS }, (_, i) => `https://s${i}.evil.example/p/${i}`);
    const r = await check(many);
    expect(r.status).toBe(200);
    expect(r.body.results).toHaveLength(MAX_CHECK_TARGETS);
    expect(r.body.results.every((x: { blocked: boolean }) => x.blocked)).toBe(true);
    const tooMany = await check([...many, 'one-more.example']);
    expectError(tooMany, 400, 'invalid_request');
    expect(tooMany.body.error.details).toEqual([
      expect.objectContaining({ field: 'targets', code: 'too_big' }),
    ]);
  });

  it('refuses an empty list, non-string targets and unknown fields', async () => {
    expectError(await check([]), 400, 'invalid_request');
    expectError(await check([{ url: 'evil.example' }]), 400, 'invalid_request');
    const extra = await t.call('POST', '/v1/check', {
      as: 'auditor',
      json: { targets: ['a.example'], verbose: true },
    });
    expectError(extra, 400, 'invalid_request');
  });
});
