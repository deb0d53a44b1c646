import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeArtifact } from '../../src/core/artifact.ts';
import { fromBase64 } from '../../src/core/bytes.ts';
import { parseCheckpoint, verifyCheckpoint } from '../../src/core/checkpoint.ts';
import { generateSigningKey } from '../../src/core/keys.ts';
import { hashLeaf, verifyConsistency, verifyInclusion } from '../../src/core/merkle.ts';
import { eventually, expectError, type TestHub, testApp } from '../helpers/hub.ts';

const b64 = (s: string) => fromBase64(s) as Uint8Array;

describe('GET /v1/log/* (public, no token)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await testApp();
    const order = (reference: string, category: string, targets: string[]) =>
      t.call('POST', '/v1/orders', {
        as: 'regulator',
        json: { reference, authority: 'MIC', category, reason: 'ruling', targets },
      });
    expect((await order('A/1', 'phishing', ['evil.example', 'bad.example/login'])).status).toBe(201);
    expect((await order('S/1', 'csam', ['hidden.example'])).status).toBe(201);
    expect(
      (await t.call('POST', '/v1/orders/1/revoke', { as: 'regulator', json: { reason: 'lifted' } })).status,
    ).toBe(200);
  });
  afterAll(() => t.close());

  it('serves each version checkpoint as a C2SP signed note under the feed key', async () => {
    const latest = await t.call('GET', '/v1/log/checkpoint');
    expect(latest.status).toBe(200);
    expect(latest.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(latest.headers.get('x-takedown-version')).toBe('3');
    const verified = await verifyCheckpoint(latest.body, [t.hub.signingKey.publicKey]);
    expect(verified).toMatchObject({ ok: true, value: { origin: 'takedown', treeSize: 8, version: 3 } });
    const lines = (latest.body as string).split('\n');
    expect(lines.slice(0, 2)).toEqual(['takedown', '8']);
    expect(lines[5]).toMatch(/^\u2014 takedown [A-Za-z0-9+/]{91}=$/);
    const other = await generateSigningKey();
    expect(await verifyCheckpoint(latest.body, [other.publicKey])).toMatchObject({
      ok: false,
      error: { code: 'checkpoint_unsigned' },
    });
    const first = await t.call('GET', '/v1/log/checkpoint?version=1');
    expect(parseCheckpoint(first.body)).toMatchObject({
      ok: true,
      value: { checkpoint: { treeSize: 3, version: 1 } },
    });
    expectError(await t.call('GET', '/v1/log/checkpoint?version=99'), 404, 'not_found');
    expectError(await t.call('GET', '/v1/log/checkpoint?version=x'), 400, 'invalid_request');
  });

  it('pages the entries, a confidential target only as its commitment', async () => {
    const page = await t.call('GET', '/v1/log/entries?start=0&limit=5');
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ treeSize: 8, start: 0, next: 5 });
    expect(page.body.entries.map((e: { type: string }) => e.type)).toEqual([
      'order-created',
      'add',
      'add',
      'order-created',
      'add',
    ]);
    const hidden = page.body.entries[4];
    expect(hidden).toMatchObject({ category: 'csam', order: { reference: 'S/1' } });
    expect(hidden.target).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(page.body)).not.toContain('hidden.example');
    const rest = await t.call('GET', '/v1/log/entries?start=5');
    expect(rest.body.entries.map((e: { type: string }) => e.type)).toEqual([
      'order-revoked',
      'remove',
      'remove',
    ]);
    expect(rest.body.next).toBeNull();
  });

  it('serves inclusion proofs that verify against the checkpoint they carry', async () => {
    const entries = (await t.call('GET', '/v1/log/entries')).body.entries;
    for (const version of [2, 3]) {
      for (let leaf = 0; leaf < (version === 2 ? 5 : 8); leaf++) {
        const r = await t.call('GET', `/v1/log/proof/inclusion?version=${version}&leaf=${leaf}`);
        expect(r.status).toBe(200);
        const cp = parseCheckpoint(r.body.checkpoint);
        if (!cp.ok) throw new Error(cp.error.message);
        const leafHash = hashLeaf(b64(entries[leaf].leaf));
        expect(r.body.leafHash).toBe(entries[leaf].leafHash);
        expect(
          verifyInclusion(
            leaf,
            cp.value.checkpoint.treeSize,
            leafHash,
            r.body.proof.map(b64),
            cp.value.checkpoint.root,
          ),
        ).toBe(true);
      }
    }
    expectError(await t.call('GET', '/v1/log/proof/inclusion?version=1&leaf=3'), 422, 'invalid_input');
    expectError(await t.call('GET', '/v1/log/proof/inclusion?version=1'), 400, 'invalid_request');
  });

  it('serves consistency proofs between versions', async () => {
    for (const [from, to] of [
      [1, 2],
      [1, 3],
      [2, 3],
      [3, 3],
    ] as const) {
      const r = await t.call('GET', `/v1/log/proof/consistency?from=${from}&to=${to}`);
      expect(r.status).toBe(200);
      const { from: a, to: b } = r.body;
      expect(
        verifyConsistency(a.treeSize, b.treeSize, r.body.proof.map(b64), b64(a.rootHash), b64(b.rootHash)),
      ).toBe(true);
    }
    expectError(await t.call('GET', '/v1/log/proof/consistency?from=3&to=2'), 422, 'invalid_input');
    expectError(await t.call('GET', '/v1/log/proof/consistency?from=1&to=9'), 404, 'not_found');
  });

  it('puts the checkpoint of its version into the snapshot artifact', async () => {
    await t.hub.feedsStarted;
    const bytes = await eventually(async () => {
      const res = await t.hub.app.request('/v1/feeds/url/snapshot', {
        headers: { authorization: `Bearer ${t.tokens.distributor}` },
      });
      return res.status === 200 && res.headers.get('x-takedown-version') === '3'
        ? new Uint8Array(await res.arrayBuffer())
        : undefined;
    }, 'the url feed at version 3');
    const decoded = decodeArtifact(bytes);
    if (!decoded.ok) throw new Error(decoded.error.message);
    const checkpoint = (await t.call('GET', '/v1/log/checkpoint?version=3')).body;
    expect(decoded.value.manifest.checkpoint).toBe(checkpoint);
    expect(await verifyCheckpoint(checkpoint, [t.hub.signingKey.publicKey])).toMatchObject({ ok: true });
  });
});
