import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type HubProcess, newTokenText, startHubProcess, tempDir } from '../helpers/hub.ts';

// The hub's structured log, read from a real process: one JSON line per write (order, version, actor token id),
// one per agent report, the request log; and never the text of a token.

let hub: HubProcess | undefined;
let dataDir: string | undefined;
afterAll(async () => {
  await hub?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function call(method: string, path: string, token: string, json?: unknown) {
  const res = await fetch(`${hub?.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return { status: res.status, body: await res.json() };
}

/** The JSON lines of the hub's standard error (and output) so far. */
const lines = () =>
  (hub?.output() ?? '')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('the hub log', () => {
  it('has a line per write and per report naming order, version and actor, and no token', async () => {
    dataDir = await tempDir('takedown-logs-');
    const admin = newTokenText();
    hub = await startHubProcess({ dataDir, adminToken: admin });
    const regulator = await call('POST', '/v1/tokens', admin, { role: 'regulator', name: 'reg' });
    const distributor = await call('POST', '/v1/tokens', admin, { role: 'distributor', name: 'isp-1' });
    const reg = regulator.body.token as string;
    const dist = distributor.body.token as string;

    const order = await call('POST', '/v1/orders', reg, {
      reference: 'LOG-1',
      authority: 'MIC',
      category: 'phishing',
      targets: ['logged.example', 'other.example'],
    });
    expect(order.status).toBe(201);
    const revoked = await call('POST', '/v1/orders/1/revoke', reg, { reason: 'lifted' });
    expect(revoked.status).toBe(200);
    const report = await call('POST', '/v1/distributors/report', dist, {
      feed: 'dns',
      version: 2,
      appliedAt: new Date().toISOString(),
      outputs: [{ format: 'rpz', path: '/var/lib/takedown/out/rpz.zone', ok: true }],
    });
    expect(report.status).toBe(200);
    // A refused token is logged as a request without an actor.
    expect((await call('GET', '/v1/orders', 'tdk_not-a-real-token')).status).toBe(401);
    await hub.stop();

    const logged = lines();
    for (const line of logged) {
      expect(typeof line.time).toBe('string');
      expect(['info', 'warn', 'error']).toContain(line.level);
    }
    const events = (name: string) => logged.filter((line) => line.event === name);
    expect(events('token_created')).toMatchObject([
      { token: regulator.body.id, role: 'regulator', name: 'reg', actor: 1 },
      { token: distributor.body.id, role: 'distributor', name: 'isp-1', actor: 1 },
    ]);
    expect(events('order_created')).toMatchObject([
      { order: 1, reference: 'LOG-1', version: 1, targets: 2, actor: regulator.body.id },
    ]);
    expect(events('order_revoked')).toMatchObject([{ order: 1, version: 2, actor: regulator.body.id }]);
    expect(events('agent_report')).toMatchObject([
      {
        actor: distributor.body.id,
        name: 'isp-1',
        feed: 'dns',
        version: 2,
        registryVersion: 2,
        outputsFailed: 0,
      },
    ]);
    expect(
      events('request').map((line) => `${line.method} ${line.path} ${line.status} ${line.actor}`),
    ).toEqual([
      'POST /v1/tokens 201 1',
      'POST /v1/tokens 201 1',
      `POST /v1/orders 201 ${regulator.body.id}`,
      `POST /v1/orders/1/revoke 200 ${regulator.body.id}`,
      `POST /v1/distributors/report 200 ${distributor.body.id}`,
      'GET /v1/orders 401 undefined',
    ]);

    const everything = hub.output();
    for (const token of [admin, reg, dist, 'tdk_not-a-real-token']) expect(everything).not.toContain(token);
    expect(everything).not.toMatch(/tdk_[A-Za-z0-9_-]{10}/);
  });
});
