import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportPublicKey, generateSigningKey, type SigningKey } from '../../src/core/keys.ts';
import { type ProbeObservation, signObservation } from '../../src/core/probe-evidence.ts';
import { expectError, type TestHub, testApp } from '../helpers/hub.ts';

// The hub's side of compliance probes, in-process: key pinning, plans, signed results and their refusals.

let t: TestHub;
let prober: string;
let proberId: number;
let key: SigningKey;

const asProber = (method: string, path: string, json?: unknown) =>
  t.call(method, path, { token: prober, ...(json !== undefined && { json }) });

async function order(targets: string[], category = 'phishing') {
  const r = await t.call('POST', '/v1/orders', {
    as: 'regulator',
    json: { reference: `ref-${targets[0]}`, authority: 'MIC', category, targets },
  });
  expect(r.status).toBe(201);
  return r.body;
}

function observation(planId: number, expression: string | null, over: Partial<ProbeObservation> = {}) {
  return {
    planId,
    probeId: key.id,
    isp: 'isp-a',
    target: 'dns:127.0.0.1:53',
    check: expression === null ? 'canary' : 'dns',
    expression,
    query: expression === null ? 'v1.canary.takedown TXT' : `${expression.replace(/\/$/, '')} A`,
    verdict: 'blocked',
    reason: 'nxdomain',
    canaryVersion: null,
    raw: 'AAAA',
    observedAt: new Date().toISOString(),
    ...over,
  } as ProbeObservation;
}

beforeEach(async () => {
  t = await testApp();
  const created = t.hub.registry.createToken('prober', 'probe-isp-a');
  if (!created.ok) throw new Error(created.error.message);
  prober = created.value.token;
  proberId = created.value.id;
  key = await generateSigningKey();
});

afterEach(() => t.close());

describe('probe keys', () => {
  it('pins the first key of a token and refuses another one', async () => {
    const first = await asProber('POST', '/v1/probes/keys', { publicKey: exportPublicKey(key.publicKey) });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ tokenId: proberId, keyId: key.id });
    expect(
      (await asProber('POST', '/v1/probes/keys', { publicKey: exportPublicKey(key.publicKey) })).status,
    ).toBe(200);
    const other = await generateSigningKey();
    expectError(
      await asProber('POST', '/v1/probes/keys', { publicKey: exportPublicKey(other.publicKey) }),
      409,
      'conflict',
    );
    expectError(await asProber('POST', '/v1/probes/keys', { publicKey: 'not a key' }), 422, 'bad_key');
  });

  it('is the prober role only: a distributor may not read plans, a prober may not order', async () => {
    expectError(await t.call('GET', '/v1/probes/plan?budget=60', { as: 'distributor' }), 403, 'forbidden');
    expectError(
      await asProber('POST', '/v1/orders', {
        reference: 'r',
        authority: 'a',
        category: 'malware',
        targets: ['x.test'],
      }),
      403,
      'forbidden',
    );
    expectError(await asProber('GET', '/v1/compliance'), 403, 'forbidden');
  });

  it('hands out no plan before the key is pinned', async () => {
    expectError(await asProber('GET', '/v1/probes/plan?budget=60'), 409, 'probe_key_required');
  });
});

describe('plans and results', () => {
  beforeEach(async () => {
    await asProber('POST', '/v1/probes/keys', { publicKey: exportPublicKey(key.publicKey) });
  });

  it('puts new orders first, then revocations, then a seeded sample, never a confidential category', async () => {
    const old = await order(['old-1.test', 'old-2.test', 'old-3.test', 'old-4.test', 'http://u.test/phish/']);
    await order(['secret.test'], 'csam');
    await t.call('POST', `/v1/orders/${old.order.id}/revoke`, { as: 'regulator', json: { reason: 'court' } });
    await order(['old-1.test', 'old-2.test']);
    await order(['fresh.test']);
    const plan = await asProber('GET', '/v1/probes/plan?budget=20&perEntry=4&seed=abc');
    expect(plan.status).toBe(200);
    expect(plan.body.canary).toEqual({
      name: `v${plan.body.version}.canary.takedown`,
      version: plan.body.version,
    });
    const reasons = plan.body.entries.map(
      (e: { expression: string; reason: string }) => `${e.reason} ${e.expression}`,
    );
    // Newest change first: the budget (20 queries / 4 per entry) leaves room for five.
    expect(reasons).toEqual([
      'new fresh.test/',
      'new old-2.test/',
      'new old-1.test/',
      'revoked u.test/phish/',
      'revoked old-4.test/',
    ]);
    expect(JSON.stringify(plan.body)).not.toContain('secret.test');
    expect(plan.body.entries[0].since).toBe(t.hub.registry.versionInfo(plan.body.version)?.createdAt);
  });

  it('stores signed results of the plan and reports compliance per ISP', async () => {
    await order(['evil.test']);
    const plan = (await asProber('GET', '/v1/probes/plan?budget=60')).body;
    const results = [
      await signObservation(key, observation(plan.id, 'evil.test/')),
      await signObservation(
        key,
        observation(plan.id, null, { verdict: 'blocked', reason: 'canary', canaryVersion: plan.version }),
      ),
      await signObservation(
        key,
        observation(plan.id, 'evil.test/', { isp: 'isp-b', verdict: 'not-blocked', reason: 'answer' }),
      ),
      await signObservation(
        key,
        observation(plan.id, null, {
          isp: 'isp-b',
          verdict: 'not-blocked',
          reason: 'nxdomain',
          canaryVersion: null,
        }),
      ),
    ];
    const posted = await asProber('POST', '/v1/probes/results', { results });
    expect(posted.status).toBe(201);
    expect(posted.body).toEqual({ stored: 4 });
    const compliance = await t.call('GET', '/v1/compliance', { as: 'auditor' });
    expect(compliance.status).toBe(200);
    const [a, b] = compliance.body.isps;
    expect(a).toMatchObject({
      isp: 'isp-a',
      status: 'compliant',
      enforcedShare: 1,
      canary: { expectedVersion: plan.version, enforcedVersion: plan.version, lagVersions: 0 },
      timeToBlock: { samples: 1, pending: 0 },
    });
    expect(b).toMatchObject({
      isp: 'isp-b',
      status: 'non-compliant',
      enforcedShare: 0,
      flags: ['canary_missing', 'unenforced_entries'],
      timeToBlock: { samples: 0, pending: 1 },
    });
    const metrics = (await t.call('GET', '/metrics')).body as string;
    expect(metrics).toContain('takedown_probe_enforced_ratio{isp="isp-a"} 1');
    expect(metrics).toContain('takedown_probe_enforced_ratio{isp="isp-b"} 0');
    expect(metrics).toContain('takedown_probe_canary_lag_versions{isp="isp-a"} 0');
    expect(metrics).toMatch(/takedown_probe_time_to_block_seconds\{isp="isp-a",quantile="0.5"\} [\d.]+/);
  });

  it('refuses a batch with one bad signature, and stores nothing of it', async () => {
    await order(['evil.test']);
    const plan = (await asProber('GET', '/v1/probes/plan?budget=60')).body;
    const good = await signObservation(key, observation(plan.id, 'evil.test/'));
    const tampered = { ...good, verdict: 'not-blocked' };
    const r = await asProber('POST', '/v1/probes/results', { results: [good, tampered] });
    expectError(r, 422, 'bad_signature');
    expect(r.body.error.details).toEqual([{ index: 1, reason: expect.stringContaining('does not verify') }]);
    const stranger = await generateSigningKey();
    const foreign = await signObservation(stranger, {
      ...observation(plan.id, 'evil.test/'),
      probeId: key.id,
    });
    expectError(await asProber('POST', '/v1/probes/results', { results: [foreign] }), 422, 'bad_signature');
    expect((await t.call('GET', '/v1/compliance', { as: 'regulator' })).body.isps).toEqual([]);
  });

  it('refuses results for an entry not in the plan, or for another token’s plan', async () => {
    await order(['evil.test']);
    const plan = (await asProber('GET', '/v1/probes/plan?budget=60')).body;
    const r = await asProber('POST', '/v1/probes/results', {
      results: [
        await signObservation(key, observation(plan.id, 'evil.test/')),
        await signObservation(key, observation(plan.id, 'never-ordered.test/')),
        await signObservation(key, observation(plan.id + 100, 'evil.test/')),
      ],
    });
    expectError(r, 422, 'not_in_plan');
    expect(r.body.error.details.map((d: { index: number }) => d.index)).toEqual([1, 2]);
    expect((await t.call('GET', '/v1/compliance', { as: 'regulator' })).body.isps).toEqual([]);
  });

  it('refuses results from a revoked probe token', async () => {
    await order(['evil.test']);
    const plan = (await asProber('GET', '/v1/probes/plan?budget=60')).body;
    const signed = await signObservation(key, observation(plan.id, 'evil.test/'));
    expect((await t.call('DELETE', `/v1/tokens/${proberId}`, { as: 'admin' })).status).toBe(200);
    expectError(await asProber('POST', '/v1/probes/results', { results: [signed] }), 401, 'unauthorized');
    expect((await t.call('GET', '/v1/compliance', { as: 'regulator' })).body.isps).toEqual([]);
  });
});
