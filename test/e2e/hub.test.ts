import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type HubProcess, newTokenText, startHubProcess, tempDir } from '../helpers/hub.ts';

// `takedown serve` as a real process on a loopback port: first start, the README tour over HTTP, restart, SIGTERM.

let dataDir: string;
let running: HubProcess | undefined;

beforeAll(async () => {
  dataDir = await tempDir('takedown-e2e-');
});
afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

async function api(hub: HubProcess, method: string, path: string, token?: string, json?: unknown) {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return { status: res.status, body: await res.json() };
}

describe('takedown serve', () => {
  let admin: string;

  it('prints the admin token on first start and serves the README tour', async () => {
    const hub = await startHubProcess({ dataDir });
    running = hub;
    expect(hub.url).toBe(`http://127.0.0.1:${hub.port}`);
    expect(hub.printedAdminToken).toMatch(/^tdk_/);
    admin = hub.printedAdminToken as string;
    expect(hub.output().split(admin)).toHaveLength(2);

    // 1. a regulator token
    const reg = await api(hub, 'POST', '/v1/tokens', admin, { role: 'regulator', name: 'mic-cattt' });
    expect(reg.status).toBe(201);
    const token = reg.body.token as string;

    // 2. an order for a few targets
    const order = await api(hub, 'POST', '/v1/orders', token, {
      reference: '5167/BTTTT-CATTT',
      authority: 'MIC',
      category: 'phishing',
      reason: 'credential phishing',
      targets: ['evil-bank.example', 'http://files.example.net/phish/login.php?id=7'],
    });
    expect(order.status).toBe(201);
    expect(order.body.version).toBe(1);
    expect(order.body.results.map((r: { status: string }) => r.status)).toEqual(['added', 'added']);

    // 3. check URLs
    const urls = ['https://login.evil-bank.example/x', 'http://files.example.net/other.html'];
    const checked = await api(hub, 'POST', '/v1/check', token, { targets: urls });
    expect(checked.status).toBe(200);
    expect(checked.body.results.map((r: { blocked: boolean }) => r.blocked)).toEqual([true, false]);

    // 4. explain one
    const explained = await api(
      hub,
      'GET',
      `/v1/explain?target=${encodeURIComponent(urls[0] as string)}`,
      token,
    );
    expect(explained.body).toMatchObject({ canonical: 'https://login.evil-bank.example/x', blocked: true });
    expect(explained.body.matches[0].orders[0]).toMatchObject({ id: 1, reference: '5167/BTTTT-CATTT' });

    // 5. revoke the order, then check again
    const revoked = await api(hub, 'POST', '/v1/orders/1/revoke', token, { reason: 'court ruling 12/2026' });
    expect(revoked).toEqual({ status: 200, body: { version: 2, adds: 0, removes: 2 } });
    const after = await api(hub, 'POST', '/v1/check', token, { targets: urls });
    expect(after.body).toMatchObject({ version: 2, results: [{ blocked: false }, { blocked: false }] });

    expect(await api(hub, 'GET', '/healthz')).toEqual({ status: 200, body: { status: 'ok', version: 2 } });
    const keys = await api(hub, 'GET', '/v1/keys');
    const pinned = await readFile(join(dataDir, 'keys', 'signing.pub'), 'utf8');
    expect(keys.body.keys[0].publicKey).toBe(pinned.trim());
  });

  it('stops cleanly on SIGTERM', async () => {
    const hub = await startHubProcess({ dataDir });
    running = hub;
    expect(await hub.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await expect(fetch(`${hub.url}/healthz`)).rejects.toThrow();
  });

  it('prints no admin token on a later start and keeps the registry and tokens', async () => {
    const hub = await startHubProcess({ dataDir, adminToken: newTokenText() });
    running = hub;
    expect(hub.printedAdminToken).toBeNull();
    expect(hub.output()).not.toMatch(/admin token/);
    expect(hub.output()).toMatch(/registry version 2\b/);
    expect((await api(hub, 'GET', '/v1/tokens', admin)).status).toBe(200);
    const order = await api(hub, 'GET', '/v1/orders/1', admin);
    expect(order.body.order).toMatchObject({ status: 'revoked', revokeReason: 'court ruling 12/2026' });
  });

  it('takes the first admin token from TAKEDOWN_ADMIN_TOKEN on a new data directory', async () => {
    const fresh = await tempDir('takedown-e2e-');
    try {
      const given = newTokenText();
      const hub = await startHubProcess({ dataDir: fresh, adminToken: given });
      running = hub;
      expect(hub.output()).toMatch(/first start: admin token taken from TAKEDOWN_ADMIN_TOKEN/);
      expect(hub.output()).not.toContain(given);
      const listed = await api(hub, 'GET', '/v1/tokens', given);
      expect(listed.status).toBe(200);
      expect(listed.body.tokens).toEqual([
        expect.objectContaining({ id: 1, role: 'admin', name: 'first-admin' }),
      ]);
      expect((await api(hub, 'GET', '/v1/tokens', newTokenText())).status).toBe(401);
      expect(await hub.stop()).toEqual({ code: 0, signal: null });
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });
});
