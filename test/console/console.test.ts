import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestHub, testApp } from '../helpers/hub.ts';

// The console over HTTP (no browser): sessions, cookie flags, CSRF, roles, language, and the pages reading the
// registry. test/console/browser.test.ts drives the same pages in Chromium.

let t: TestHub;
beforeAll(async () => {
  t = await testApp({ config: { consoleSessionMinutes: 30 } });
});
afterAll(() => t.close());

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

/** A browser-like client: keeps cookies, sends forms. */
function browser(headers: Record<string, string> = {}) {
  const jar = new Map<string, string>();
  const send = async (method: string, path: string, form?: Record<string, string>): Promise<Reply> => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await t.hub.app.request(path, {
      method,
      headers: {
        ...headers,
        ...(cookie ? { cookie } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (/max-age=0/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  return {
    jar,
    get: (path: string) => send('GET', path),
    post: (path: string, form: Record<string, string>) => send('POST', path, form),
    async signIn(token: string) {
      const page = await send('GET', '/console/sign-in');
      const csrf = csrfOf(page.text);
      return send('POST', '/console/sign-in', { csrf, token });
    },
  };
}

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** Every console route, with a real order id in place of `:id`. */
const consoleRoutes = () => {
  const seen = new Set<string>();
  for (const r of t.hub.app.routes)
    if (r.method !== 'ALL' && r.path.startsWith('/console')) seen.add(`${r.method} ${r.path}`);
  return [...seen].map((k) => k.split(' ') as [string, string]);
};
const PUBLIC = ['/console/sign-in', '/console/lang/:lang', '/console/static/console.css'];

describe('the console without a session', () => {
  it('answers no page and no form: every route but sign-in redirects to sign-in and shows nothing', async () => {
    const anonymous = browser();
    const routes = consoleRoutes().filter(([, path]) => !PUBLIC.includes(path));
    expect(routes.length).toBeGreaterThan(12);
    for (const [method, path] of routes) {
      const url = path.replace(':id', '1');
      const r = method === 'GET' ? await anonymous.get(url) : await anonymous.post(url, { reason: 'x' });
      expect({ route: `${method} ${path}`, status: r.status, location: r.headers.get('location') }).toEqual({
        route: `${method} ${path}`,
        status: 303,
        location: '/console/sign-in',
      });
      expect(r.text).toBe('');
    }
  });

  it('refuses a sign-in without its CSRF token, and an unknown or distributor token', async () => {
    const b = browser();
    await b.get('/console/sign-in');
    const noCsrf = await b.post('/console/sign-in', { token: t.tokens.admin });
    expect(noCsrf.status).toBe(403);
    expect(b.jar.has('takedown_session')).toBe(false);
    expect((await b.signIn('tdk_unknown')).status).toBe(401);
    const distributor = await b.signIn(t.tokens.distributor);
    expect(distributor.status).toBe(401);
    expect(b.jar.has('takedown_session')).toBe(false);
  });
});

describe('sign-in and the session cookie', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie with an expiry, Secure only behind TLS', async () => {
    const plain = await browser().signIn(t.tokens.regulator);
    expect(plain.status).toBe(303);
    const cookie = plain.headers.getSetCookie().find((c) => c.startsWith('takedown_session=')) ?? '';
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Max-Age=1800/);
    expect(cookie).toMatch(/; Path=\/console/);
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).not.toContain(t.tokens.regulator);

    const tls = await browser({ 'x-forwarded-proto': 'https' }).signIn(t.tokens.regulator);
    expect(tls.headers.getSetCookie().find((c) => c.startsWith('takedown_session='))).toMatch(/; Secure/);
  });

  it('serves pages with a CSP that allows no script, and no page has a script', async () => {
    const b = browser();
    await b.signIn(t.tokens.admin);
    for (const path of [
      '/console/orders',
      '/console/orders/new',
      '/console/entries',
      '/console/audit',
      '/console/isps',
      '/console/tokens',
    ]) {
      const r = await b.get(path);
      expect(r.status, path).toBe(200);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('script-src');
      expect(r.text).not.toMatch(/<script/i);
      expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    }
  });

  it('signs out: the cookie is cleared and the old session id no longer opens a page', async () => {
    const b = browser();
    await b.signIn(t.tokens.auditor);
    const id = b.jar.get('takedown_session');
    const page = await b.get('/console/orders');
    const out = await b.post('/console/sign-out', { csrf: csrfOf(page.text) });
    expect(out.status).toBe(303);
    expect(b.jar.has('takedown_session')).toBe(false);
    b.jar.set('takedown_session', id as string);
    expect((await b.get('/console/orders')).status).toBe(303);
  });

  it('ends the sessions of a revoked token', async () => {
    const minted = await t.call('POST', '/v1/tokens', {
      as: 'admin',
      json: { role: 'regulator', name: 'short' },
    });
    const b = browser();
    await b.signIn(minted.body.token);
    expect((await b.get('/console/orders')).status).toBe(200);
    await t.call('DELETE', `/v1/tokens/${minted.body.id}`, { as: 'admin' });
    expect((await b.get('/console/orders')).status).toBe(303);
  });
});

describe('roles and CSRF', () => {
  it('keeps a regulator out of the tokens page and its forms, and an auditor out of new orders', async () => {
    const reg = browser();
    await reg.signIn(t.tokens.regulator);
    const page = await reg.get('/console/orders');
    expect(page.text).not.toContain('/console/tokens');
    expect((await reg.get('/console/tokens')).status).toBe(403);
    const mint = await reg.post('/console/tokens', {
      csrf: csrfOf(page.text),
      role: 'admin',
      name: 'sneaky',
    });
    expect(mint.status).toBe(403);
    expect(
      (await t.call('GET', '/v1/tokens', { as: 'admin' })).body.tokens.map((k: { name: string }) => k.name),
    ).not.toContain('sneaky');

    const aud = browser();
    await aud.signIn(t.tokens.auditor);
    expect((await aud.get('/console/orders/new')).status).toBe(403);
    expect((await aud.get('/console/audit')).status).toBe(200);
    expect((await reg.get('/console/audit')).status).toBe(403);
  });

  it('refuses a form without the CSRF token, or with another session’s, and changes nothing', async () => {
    const created = await t.call('POST', '/v1/orders', {
      as: 'regulator',
      json: { reference: 'CSRF-1', authority: 'MIC', category: 'fraud', targets: ['csrf-test.example'] },
    });
    const id = created.body.order.id;
    const a = browser();
    const b = browser();
    await a.signIn(t.tokens.regulator);
    await b.signIn(t.tokens.regulator);
    const otherCsrf = csrfOf((await b.get('/console/orders')).text);
    expect((await a.post(`/console/orders/${id}/revoke`, { reason: 'forged' })).status).toBe(403);
    expect((await a.post(`/console/orders/${id}/revoke`, { reason: 'forged', csrf: otherCsrf })).status).toBe(
      403,
    );
    expect((await t.call('GET', `/v1/orders/${id}`, { as: 'auditor' })).body.order.status).toBe('active');

    const ownCsrf = csrfOf((await a.get(`/console/orders/${id}`)).text);
    const done = await a.post(`/console/orders/${id}/revoke`, { reason: 'court ruling', csrf: ownCsrf });
    expect(done.status).toBe(303);
    const order = (await t.call('GET', `/v1/orders/${id}`, { as: 'auditor' })).body.order;
    expect(order).toMatchObject({ status: 'revoked', revokeReason: 'court ruling' });
  });
});

describe('language', () => {
  it('speaks Vietnamese by default, English for Accept-Language en, and follows the switch', async () => {
    expect((await browser().get('/console/sign-in')).text).toContain('<html lang="vi"');
    expect((await browser({ 'accept-language': 'en-GB,en;q=0.9' }).get('/console/sign-in')).text).toContain(
      'Access token',
    );
    const b = browser({ 'accept-language': 'en' });
    const sw = await b.get('/console/lang/vi?back=/console/sign-in');
    expect(sw.headers.get('location')).toBe('/console/sign-in');
    expect((await b.get('/console/sign-in')).text).toContain('Mã truy cập');
    const away = await b.get('/console/lang/en?back=//evil.example/');
    expect(away.headers.get('location')).toBe('/console');
  });
});

describe('pages over the registry', () => {
  it('previews an order target by target, shows the bad one, and creates it once fixed', async () => {
    const b = browser({ 'accept-language': 'en' });
    await b.signIn(t.tokens.regulator);
    const csrf = csrfOf((await b.get('/console/orders/new')).text);
    const form = { csrf, reference: 'WEB-1', authority: 'MIC', category: 'gambling', intent: 'preview' };
    const bad = await b.post('/console/orders/new', {
      ...form,
      targets: 'web-a.example\nbad..name.example\nweb-b.example',
    });
    expect(bad.status).toBe(422);
    expect(bad.text).toMatch(/<tr class="result-rejected"><td>bad\.\.name\.example<\/td>.*empty_label/);
    expect(bad.text).toContain('web-a.example/');
    const submitted = await b.post('/console/orders/new', {
      ...form,
      intent: 'submit',
      targets: 'web-a.example\nbad..name.example',
    });
    expect(submitted.status).toBe(422);
    expect((await t.call('GET', '/v1/orders?reference=WEB-1', { as: 'auditor' })).body.orders).toEqual([]);

    const good = await b.post('/console/orders/new', {
      ...form,
      intent: 'submit',
      targets: 'web-a.example\nweb-c.example',
    });
    expect(good.status).toBe(303);
    const orders = (await t.call('GET', '/v1/orders?reference=WEB-1', { as: 'auditor' })).body.orders;
    expect(orders).toHaveLength(1);
    expect(good.headers.get('location')).toBe(
      `/console/orders/${orders[0].id}?done=created&v=${orders[0].version}`,
    );
    const page = await b.get(good.headers.get('location') as string);
    expect(page.text).toContain(`Order ${orders[0].id} created in version ${orders[0].version}.`);
    expect(page.text).toContain('web-c.example/');
  });

  it('shows the ISPs with their lag, red past the deadline, and an SVG chart', async () => {
    await t.call('POST', '/v1/distributors/report', {
      as: 'distributor',
      json: {
        agentId: 'r1',
        feed: 'dns',
        version: 1,
        appliedAt: new Date().toISOString(),
        outputs: [{ format: 'rpz', path: '/x', ok: true }],
      },
    });
    const b = browser({ 'accept-language': 'en' });
    await b.signIn(t.tokens.auditor);
    const page = await b.get('/console/isps');
    expect(page.text).toContain('test-distributor / r1');
    expect(page.text).toMatch(/<svg[^>]*id="lag-chart"/);
    expect(page.text).toContain('class="deadline"');
    expect(page.text).toMatch(/<polyline class="series" data-series="test-distributor\/r1 dns"/);

    const audit = await b.get('/console/audit/export?format=jsonl');
    expect(audit.headers.get('content-disposition')).toContain('takedown-audit.jsonl');
    const api = await t.call('GET', '/v1/audit?limit=1000', { as: 'auditor' });
    expect(audit.text.trimEnd().split('\n')).toHaveLength(api.body.changes.length);
  });

  it('pages a long list with a next link that keeps the filters set and leaves out the empty ones', async () => {
    for (let i = 0; i < 51; i++) {
      const created = await t.call('POST', '/v1/orders', {
        as: 'regulator',
        json: {
          reference: `PAGE-${i}`,
          authority: 'PAGING',
          category: 'gambling',
          targets: [`page-${i}.example`],
        },
      });
      expect(created.status).toBe(201);
    }
    const b = browser({ 'accept-language': 'en' });
    await b.signIn(t.tokens.auditor);
    const first = await b.get('/console/orders?authority=PAGING&category=&status=');
    const next = /<a rel="next" href="([^"]+)"/.exec(first.text)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toBeDefined();
    const query = new URL(next as string, 'http://hub').searchParams;
    expect(query.get('authority')).toBe('PAGING');
    expect(query.has('category')).toBe(false);
    expect(query.get('cursor')).toBeTruthy();
    const second = await b.get(next as string);
    const references = (html: string) => html.match(/PAGE-\d+/g) ?? [];
    expect(new Set([...references(first.text), ...references(second.text)]).size).toBe(51);
    expect(second.text).not.toContain('rel="next"');
  });
});
