import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenRole } from '../../src/registry/types.ts';
import { type CallOptions, expectError, newTokenText, type TestHub, testApp } from '../helpers/hub.ts';

// Bearer tokens and roles on every route of the API (docs/ARCHITECTURE.md: interfaces).

interface Route {
  method: string;
  path: string;
  /** Roles admitted besides admin; 'any' admits every valid token. */
  roles: TokenRole[] | 'any';
  json?: unknown;
}

const order = { reference: 'AUTH-1', authority: 'Authority', category: 'malware', targets: ['auth.example'] };

// Order 1 exists before the table runs; the writes the table makes with allowed roles keep it valid.
const ROUTES: Route[] = [
  { method: 'POST', path: '/v1/tokens', roles: [], json: { role: 'auditor', name: 'table' } },
  { method: 'GET', path: '/v1/tokens', roles: [] },
  { method: 'DELETE', path: '/v1/tokens/999', roles: [] },
  { method: 'POST', path: '/v1/orders', roles: ['regulator'], json: order },
  { method: 'GET', path: '/v1/orders', roles: ['regulator', 'auditor'] },
  { method: 'GET', path: '/v1/orders/1', roles: ['regulator', 'auditor'] },
  { method: 'POST', path: '/v1/orders/1/extend', roles: ['regulator'], json: { expiresAt: null } },
  { method: 'POST', path: '/v1/orders/999/revoke', roles: ['regulator'], json: { reason: 'x' } },
  { method: 'GET', path: '/v1/entries', roles: ['regulator', 'auditor'] },
  {
    method: 'POST',
    path: '/v1/entries/revoke',
    roles: ['regulator'],
    json: { target: 'none.example', reason: 'x' },
  },
  { method: 'GET', path: '/v1/explain?target=auth.example', roles: 'any' },
  { method: 'POST', path: '/v1/check', roles: 'any', json: { targets: ['auth.example'] } },
  { method: 'GET', path: '/v1/audit', roles: ['auditor'] },
  { method: 'GET', path: '/v1/audit/verify', roles: ['auditor'] },
  {
    method: 'POST',
    path: '/v1/distributors/report',
    roles: ['distributor'],
    json: { feed: 'dns', version: 1, appliedAt: '2026-01-01T00:00:00Z', outputs: [] },
  },
  { method: 'GET', path: '/v1/distributors', roles: ['regulator', 'auditor'] },
];
const ROLES: TokenRole[] = ['admin', 'regulator', 'auditor', 'distributor'];
const admits = (r: Route, role: TokenRole) => role === 'admin' || r.roles === 'any' || r.roles.includes(role);
const label = (r: Route) => `${r.method} ${r.path}`;

let t: TestHub;
let revoked: string;

beforeAll(async () => {
  t = await testApp();
  expect((await t.call('POST', '/v1/orders', { as: 'regulator', json: order })).status).toBe(201);
  const created = await t.call('POST', '/v1/tokens', {
    as: 'admin',
    json: { role: 'admin', name: 'soon revoked' },
  });
  revoked = created.body.token;
  expect((await t.call('DELETE', `/v1/tokens/${created.body.id}`, { as: 'admin' })).status).toBe(200);
});
afterAll(() => t.close());

const send = (r: Route, auth: CallOptions) => t.call(r.method, r.path, { ...auth, json: r.json });

describe.each(ROUTES.map((r) => [label(r), r] as const))('%s', (_, route) => {
  // Functions, because the revoked token exists only once beforeAll has run.
  const refusals: Array<[string, () => CallOptions]> = [
    ['no token', () => ({})],
    ['an unknown token', () => ({ token: newTokenText() })],
    ['a token of the wrong shape', () => ({ token: 'admin' })],
    ['a revoked admin token', () => ({ token: revoked })],
    ['a Basic header', () => ({ headers: { authorization: `Basic ${btoa('admin:admin')}` } })],
  ];

  it.each(refusals)('answers 401 to %s, before reading the body', async (_, auth) => {
    const before = await t.version();
    const r = await send(route, auth());
    expectError(r, 401, 'unauthorized');
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="takedown"/);
    expect(await t.version()).toBe(before);
  });

  it.each(ROLES.filter((role) => !admits(route, role)))('answers 403 to a %s token', async (role) => {
    const before = await t.version();
    const r = await send(route, { as: role });
    expectError(r, 403, 'forbidden');
    expect(r.body.error.message).toContain(role);
    expect(await t.version()).toBe(before);
  });

  it.each(ROLES.filter((role) => admits(route, role)))('lets the %s role through', async (role) => {
    const r = await send(route, { as: role });
    expect([401, 403]).not.toContain(r.status);
    expect(r.status).toBeLessThan(500);
  });
});

describe('routes without a token', () => {
  it('GET /healthz gives the version', async () => {
    const r = await t.call('GET', '/healthz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok', version: await t.version() });
  });

  it('GET /metrics is Prometheus text', async () => {
    const r = await t.call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(r.body).toMatch(/^# TYPE takedown_registry_version gauge$/m);
    expect(r.body).toMatch(/^takedown_http_requests_total\{method="GET",status="401"\} \d+$/m);
  });

  it('GET /v1/keys lists the raw 32-byte Ed25519 public key in base64', async () => {
    const r = await t.call('GET', '/v1/keys');
    expect(r.status).toBe(200);
    expect(r.body.keys).toHaveLength(1);
    const [key] = r.body.keys;
    expect(key.id).toBe(t.hub.signingKey.id);
    expect(Buffer.from(key.publicKey, 'base64')).toHaveLength(32);
    const pinned = await readFile(`${t.dataDir}/keys/signing.pub`, 'utf8');
    expect(pinned.trim()).toBe(key.publicKey);
  });
});

describe('/v1/tokens', () => {
  it('creates a token shown once, lists tokens without secrets, and revokes', async () => {
    const created = await t.call('POST', '/v1/tokens', {
      as: 'admin',
      json: { role: 'regulator', name: 'ministry' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(Number),
      token: expect.stringMatching(/^tdk_[\w-]{43}$/),
      role: 'regulator',
      name: 'ministry',
    });
    const { id, token } = created.body;
    expect((await t.call('GET', '/v1/orders', { token })).status).toBe(200);

    const list = await t.call('GET', '/v1/tokens', { as: 'admin' });
    const listed = list.body.tokens.find((x: { id: number }) => x.id === id);
    expect(listed).toMatchObject({ id, role: 'regulator', name: 'ministry', revokedAt: null });
    expect(JSON.stringify(list.body)).not.toContain(token);
    expect(Object.keys(listed).sort()).toEqual([
      'createdAt',
      'id',
      'lastUsedAt',
      'name',
      'revokedAt',
      'role',
    ]);

    const del = await t.call('DELETE', `/v1/tokens/${id}`, { as: 'admin' });
    expect(del.status).toBe(200);
    expect(del.body.token).toMatchObject({ id, revokedAt: expect.any(String) });
    expectError(await t.call('GET', '/v1/orders', { token }), 401, 'unauthorized');
    expectError(await t.call('DELETE', `/v1/tokens/${id}`, { as: 'admin' }), 409, 'conflict');
    expectError(await t.call('DELETE', '/v1/tokens/424242', { as: 'admin' }), 404, 'not_found');
  });

  it('refuses an unknown role, a missing name and extra fields', async () => {
    for (const json of [
      { role: 'root', name: 'x' },
      { role: 'auditor' },
      { role: 'auditor', name: 'x', token: newTokenText() },
    ]) {
      expectError(await t.call('POST', '/v1/tokens', { as: 'admin', json }), 400, 'invalid_request');
    }
  });

  it('stores tokens only as hashes: the database files never contain a token text', async () => {
    const created = await t.call('POST', '/v1/tokens', {
      as: 'admin',
      json: { role: 'auditor', name: 'secret check' },
    });
    const files = await Promise.all(
      [t.dbPath, `${t.dbPath}-wal`].map((f) => readFile(f).catch(() => Buffer.alloc(0))),
    );
    for (const token of [created.body.token, t.tokens.admin, t.tokens.regulator]) {
      for (const bytes of files) expect(bytes.includes(token)).toBe(false);
    }
  });
});
