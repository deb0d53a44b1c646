import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingTools } from '../../bench/lib/resolvers/unbound.ts';
import { type HubProcess, newTokenText, REPO_ROOT, startHubProcess, tempDir } from '../helpers/hub.ts';

// The console in Debian's Chromium, driven by playwright-core: the regulator's day from sign-in to sign-out,
// with axe-core on every page and a screenshot of each into test-artifacts/console/ (git-ignored, kept by CI).

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts/console');
const FIXTURE = join(REPO_ROOT, 'test/fixtures/console/shadowwhisperer-scam-head3000.txt');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let dataDir: string;
let profile: string;
let hub: HubProcess;
let context: BrowserContext;
let page: Page;
let axeSource: string;
const admin = newTokenText();
const tokens: Record<string, { id: number; token: string }> = {};
let shot = 0;

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

/** axe-core on the page as it is: no serious or critical violation. Then a screenshot named `name`. */
async function check(name: string) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is the injected global
    const result = await (globalThis as any).axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical')
      .map((v: { id: string; nodes: Array<{ target: string[] }> }) => ({
        id: v.id,
        nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
      }));
  });
  expect(violations, `axe on ${name}`).toEqual([]);
  shot++;
  await page.screenshot({
    path: join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`),
    fullPage: false,
  });
}

async function signIn(token: string) {
  await page.goto(`${hub.url}/console`);
  expect(new URL(page.url()).pathname).toBe('/console/sign-in');
  await page.getByLabel(/Mã truy cập|Access token/).fill(token);
  await page.locator('form.sign-in button[type=submit]').click();
  await page.waitForURL(/\/console\/(orders|tokens)/);
}

async function signOut() {
  await page.locator('form[action="/console/sign-out"] button').click();
  await page.waitForURL(/\/console\/sign-in/);
}

describe.skipIf(missingTools(['chromium']))('the console in Chromium', () => {
  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    axeSource = await readFile(join(REPO_ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
    dataDir = await tempDir();
    // 2 000 targets would otherwise wait for a second regulator (four-eyes): this scenario is one regulator's.
    hub = await startHubProcess({
      dataDir,
      adminToken: admin,
      env: { TAKEDOWN_APPROVAL_MAX_TARGETS: '5000', TAKEDOWN_LAG_DEADLINE_SECONDS: '5' },
    });
    for (const role of ['regulator', 'distributor']) {
      tokens[role] = (await api('POST', '/v1/tokens', admin, { role, name: `browser-${role}` })).body;
    }
    profile = await mkdtemp(join(tmpdir(), 'takedown-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      headless: true,
      locale: 'vi-VN',
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await hub?.stop();
    await rm(dataDir, { recursive: true, force: true });
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('signs in, orders 2 000 names after fixing a bad one, finds and revokes it, watches an ISP catch up, switches language, signs out', {
    timeout: 300_000,
  }, async () => {
    const names = (await readFile(FIXTURE, 'utf8')).split('\n').filter(Boolean);
    // Real lists hold a few names the safety rails refuse (a protected or public-suffix name): take the first
    // 2 000 the registry accepts, as the API's dry run says.
    const dry = await api('POST', '/v1/orders?dryRun=true', tokens.regulator?.token as string, {
      reference: 'probe',
      authority: 'MIC',
      category: 'fraud',
      targets: names.slice(0, 2100),
    });
    const accepted = new Set(
      dry.body.results
        .filter((r: { status: string }) => r.status === 'added')
        .map((r: { target: string }) => r.target),
    );
    const targets = names.filter((n) => accepted.has(n)).slice(0, 2000);
    expect(targets).toHaveLength(2000);
    const bad = 'bad..name.example';
    const withBad = [...targets.slice(0, 999), bad, ...targets.slice(1000)];

    await signIn(tokens.regulator?.token as string);
    expect(await page.locator('html').getAttribute('lang')).toBe('vi');
    await check('orders-empty');

    // New order: paste 2 000 names, one of them bad; the preview shows the error beside it.
    await page.locator('nav a[href="/console/orders/new"]').click();
    await page.locator('#f-reference').fill('BROWSER/2026-14');
    await page.locator('#f-authority').fill('MIC');
    await page.locator('#f-category').selectOption('fraud');
    await page.locator('#f-reason').fill('scam sites reported by citizens');
    await page.locator('#f-targets').fill(withBad.join('\n'));
    await page.locator('button[name=intent][value=preview]').click();
    await page.waitForSelector('#preview');
    const rejected = page.locator('tr.result-rejected');
    await expect.poll(() => rejected.count()).toBe(1);
    expect(await rejected.locator('td').first().textContent()).toBe(bad);
    expect(await rejected.textContent()).toContain('empty_label');
    expect(await page.locator('tr.result-added').count()).toBe(1999);
    await page.locator('#preview-h').scrollIntoViewIfNeeded();
    await check('new-order-preview-error');

    // Fix it (the 1 000th name back in place) and submit.
    await page.locator('#f-targets').fill(targets.join('\n'));
    await page.locator('button[name=intent][value=preview]').click();
    await page.waitForSelector('#preview');
    expect(await page.locator('tr.result-rejected').count()).toBe(0);
    await page.locator('button[name=intent][value=submit]').click();
    await page.waitForURL(/\/console\/orders\/\d+\?done=created/);
    const orderId = Number(/\/orders\/(\d+)/.exec(page.url())?.[1]);
    expect(
      (await api('GET', `/v1/orders/${orderId}`, tokens.regulator?.token as string)).body.order,
    ).toMatchObject({ reference: 'BROWSER/2026-14', entryCount: 2000, status: 'active' });

    // Find it with the filters, open it.
    await page.locator('nav a[href="/console/orders"]').click();
    await page.locator('#f-referencePrefix').fill('BROWSER/');
    await page.locator('#f-status').selectOption('active');
    await page.locator('form.filters button[type=submit]').click();
    await page.getByRole('link', { name: 'BROWSER/2026-14' }).click();
    await page.waitForURL(new RegExp(`/console/orders/${orderId}$`));
    expect(await page.locator('table tbody tr').count()).toBe(100);
    await check('order');

    // Revoke it with a reason.
    await page.locator('form[action$="/revoke"] #f-reason').fill('court ruling 12/2026 lifted the order');
    await page.locator('form[action$="/revoke"] button[type=submit]').click();
    await page.waitForURL(/done=revoked/);
    expect(await page.locator('#order-status').textContent()).toBe('revoked');
    await check('order-revoked');

    // Entries and explain.
    await page.locator('nav a[href="/console/entries"]').click();
    await page.locator('#f-prefix').fill(targets[0] as string);
    await page.locator('form[aria-labelledby="search-h"] button').click();
    await page.locator('#f-explain').fill(`https://www.${targets[0]}/login`);
    await page.locator('form[aria-labelledby="explain-h"] button').click();
    await page.waitForSelector('#explained');
    expect(await page.locator('#explained').textContent()).toContain(`${targets[0]}/`);
    await check('entries-explain');

    // ISPs: none yet; an agent reports; the page shows it, with the lag chart.
    await page.locator('nav a[href="/console/isps"]').click();
    expect(await page.locator('#isps').count()).toBe(0);
    const version = (await (await fetch(`${hub.url}/healthz`)).json()).version as number;
    const report = await api('POST', '/v1/distributors/report', tokens.distributor?.token as string, {
      agentId: 'hn-resolver-1',
      feed: 'dns',
      version,
      appliedAt: new Date().toISOString(),
      outputs: [{ format: 'rpz', path: '/etc/unbound/takedown.rpz', ok: true }],
    });
    expect(report.status).toBe(200);
    // A second resolver still at version 1: behind since the order's version, red once past the 5 s deadline.
    const behind = await api('POST', '/v1/distributors/report', tokens.distributor?.token as string, {
      agentId: 'hcm-resolver-2',
      feed: 'dns',
      version: 1,
      appliedAt: new Date().toISOString(),
      outputs: [{ format: 'unbound', path: '/etc/unbound/takedown.conf', ok: true }],
    });
    expect(behind.status).toBe(200);
    const rows = page.locator('#isps tbody tr');
    await expect
      .poll(
        async () => {
          await page.reload();
          return rows.evaluateAll((trs) =>
            trs.map((tr) => [tr.textContent?.includes('hcm') ?? false, tr.className]),
          );
        },
        { timeout: 20_000, interval: 1000 },
      )
      .toEqual([
        [true, 'late'],
        [false, ''],
      ]);
    expect(await rows.nth(1).textContent()).toContain('hn-resolver-1');
    expect(await page.locator('#lag-chart polyline.series').count()).toBe(2);
    await check('isps');

    // Language switch, then sign out: no page without a session afterwards.
    await page.locator('#lang-switch').click();
    await page.waitForURL(/\/console\/isps$/);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.locator('h1').textContent()).toBe('ISPs');
    await signOut();
    await check('sign-in');
    await page.goto(`${hub.url}/console/orders/${orderId}`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
  });

  it('lets an admin audit the log, export it, and mint a token shown once', {
    timeout: 120_000,
  }, async () => {
    await context.clearCookies();
    await signIn(admin);
    await page.goto(`${hub.url}/console/audit`);
    expect(await page.locator('.notice.ok').textContent()).toMatch(/\d+/);
    await check('audit');
    const download = page.waitForEvent('download');
    await page.locator('a[href="/console/audit/export?format=csv"]').click();
    const csv = await readFile((await (await download).path()) as string, 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(/^seq,version,op,expression/);

    await page.locator('nav a[href="/console/tokens"]').click();
    await page.locator('#f-role').selectOption('auditor');
    await page.locator('#f-name').fill('mic-audit-2026');
    await page.locator('form[action="/console/tokens"] button').click();
    const minted = (await page.locator('#minted-token').textContent()) as string;
    expect(minted).toMatch(/^tdk_/);
    await check('tokens');
    await page.reload();
    expect(await page.locator('#minted-token').count()).toBe(0);
    expect(await page.content()).not.toContain(minted);

    await page.goto(`${hub.url}/docs`);
    await check('api-reference');
    await page.goto(`${hub.url}/console/orders`);
    await signOut();
  });
});
