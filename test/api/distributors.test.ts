import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectError, type TestHub, testApp } from '../helpers/hub.ts';

// Sync agents report the version they applied; regulators see who lags, by how many versions and seconds.

let t: TestHub;
let ispB: { id: number; token: string };

beforeEach(async () => {
  t = await testApp();
  for (const n of [1, 2, 3]) {
    const json = {
      reference: `O-${n}`,
      authority: 'Authority',
      category: 'gambling',
      targets: [`casino${n}.example`],
    };
    expect((await t.call('POST', '/v1/orders', { as: 'regulator', json })).status).toBe(201);
  }
  const created = await t.call('POST', '/v1/tokens', {
    as: 'admin',
    json: { role: 'distributor', name: 'isp-b' },
  });
  ispB = created.body;
});
afterEach(() => t.close());

const report = (version: number, extra: Record<string, unknown> = {}, token?: string) =>
  t.call('POST', '/v1/distributors/report', {
    ...(token ? { token } : { as: 'distributor' as const }),
    json: {
      feed: 'dns',
      version,
      appliedAt: new Date().toISOString(),
      outputs: [{ format: 'rpz', path: '/etc/bind/rpz.takedown.zone', ok: true }],
      ...extra,
    },
  });

type Status = {
  tokenId: number;
  name: string;
  feed: string;
  version: number;
  lagVersions: number;
  lagSeconds: number;
};
const compliance = async () => {
  const r = await t.call('GET', '/v1/distributors', { as: 'regulator' });
  expect(r.status).toBe(200);
  return r.body as { version: number; distributors: Array<Status & Record<string, unknown>> };
};

/** Moves a version's commit time back, so a lag in seconds has a known size. */
function backdate(version: number, seconds: number) {
  const db = new Database(t.dbPath);
  try {
    const at = new Date(Date.now() - seconds * 1000).toISOString();
    db.prepare('UPDATE versions SET created_at = ? WHERE version = ?').run(at, version);
  } finally {
    db.close();
  }
}

describe('POST /v1/distributors/report', () => {
  it('records what a distributor applied and answers with the registry version', async () => {
    const r = await report(2);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      tokenId: t.tokenIds.distributor,
      name: 'test-distributor',
      feed: 'dns',
      version: 2,
      registryVersion: 3,
      outputs: [{ format: 'rpz', path: '/etc/bind/rpz.takedown.zone', ok: true }],
    });
    // A later report replaces the earlier one for the same feed; another feed is its own row.
    expect((await report(3)).status).toBe(200);
    expect((await report(1, { feed: 'url' })).status).toBe(200);
    const rows = (await compliance()).distributors.map((d) => [d.name, d.feed, d.version]);
    expect(rows).toEqual([
      ['test-distributor', 'dns', 3],
      ['test-distributor', 'url', 1],
    ]);
  });

  it('refuses a version the registry has not reached, an unknown feed and a bad time', async () => {
    expectError(await report(4), 422, 'invalid_input');
    expectError(await report(1, { feed: 'everything' }), 400, 'invalid_request');
    expectError(await report(1, { appliedAt: 'just now' }), 400, 'invalid_request');
    expectError(await report(-1), 400, 'invalid_request');
    expectError(await report(1, { hostname: 'resolver-1' }), 400, 'invalid_request');
    expect((await compliance()).distributors).toEqual([]);
  });
});

describe('GET /v1/distributors', () => {
  it('shows each distributor lagging in versions and in seconds since the first version it missed', async () => {
    expect((await report(1)).status).toBe(200);
    expect((await report(3, {}, ispB.token)).status).toBe(200);
    backdate(2, 3600);

    const view = await compliance();
    expect(view.version).toBe(3);
    const byName = Object.fromEntries(view.distributors.map((d) => [d.name, d]));
    expect(byName['test-distributor']).toMatchObject({ version: 1, lagVersions: 2 });
    expect(byName['test-distributor']?.lagSeconds).toBeGreaterThanOrEqual(3600);
    expect(byName['test-distributor']?.lagSeconds).toBeLessThan(3600 + 600);
    expect(byName['isp-b']).toMatchObject({ version: 3, lagVersions: 0, lagSeconds: 0, tokenRevoked: false });
    expect(byName['isp-b']?.lastContactSeconds).toEqual(expect.any(Number));
  });

  it('keeps showing a distributor whose token was revoked, marked as such', async () => {
    expect((await report(3, {}, ispB.token)).status).toBe(200);
    expect((await t.call('DELETE', `/v1/tokens/${ispB.id}`, { as: 'admin' })).status).toBe(200);
    expectError(await report(3, {}, ispB.token), 401, 'unauthorized');
    const [row] = (await compliance()).distributors;
    expect(row).toMatchObject({ name: 'isp-b', tokenRevoked: true, version: 3 });
  });

  it('has one row per agent: four agents on one token are four rows with the token name', async () => {
    const agents = ['resolver-a', 'resolver-b', 'resolver-c', 'resolver-d'];
    for (const [i, agentId] of agents.entries()) {
      expect((await report(i % 3, { agentId })).status).toBe(200);
    }
    // A later report of one agent replaces only its own row.
    expect((await report(3, { agentId: 'resolver-b' })).status).toBe(200);
    const rows = (await compliance()).distributors.map((d) => [d.name, d.agentId, d.version, d.lagVersions]);
    expect(rows).toEqual([
      ['test-distributor', 'resolver-a', 0, 3],
      ['test-distributor', 'resolver-b', 3, 0],
      ['test-distributor', 'resolver-c', 2, 1],
      ['test-distributor', 'resolver-d', 0, 3],
    ]);
    // An agent that sends no id is one more row of its token; a malformed id is refused.
    expect((await report(1)).status).toBe(200);
    expect((await compliance()).distributors.map((d) => d.agentId)).toContain('');
    expectError(await report(1, { agentId: 'a b' }), 400, 'invalid_request');
    expectError(await report(1, { agentId: 'x'.repeat(65) }), 400, 'invalid_request');
  });

  it('is visible to auditors but not to distributors', async () => {
    expect((await t.call('GET', '/v1/distributors', { as: 'auditor' })).status).toBe(200);
    expectError(await t.call('GET', '/v1/distributors', { as: 'distributor' }), 403, 'forbidden');
  });

  describe('checkpoints', () => {
    /** The hub's own checkpoint of `version`, as an agent reports it. */
    const hubCheckpoint = async (version: number) => {
      const r = await t.call('GET', `/v1/log/proof/consistency?from=${version}&to=${version}`);
      expect(r.status).toBe(200);
      const { treeSize, rootHash } = r.body.to;
      return { version, treeSize, rootHash };
    };
    const otherRoot = Buffer.alloc(32, 7).toString('base64');

    it("shows the checkpoint each agent enforces, matching the hub's, and no split view", async () => {
      const checkpoint = await hubCheckpoint(3);
      expect((await report(3, { agentId: 'resolver-a', checkpoint })).status).toBe(200);
      expect((await report(3, { agentId: 'resolver-b', checkpoint })).status).toBe(200);
      expect((await report(2, { agentId: 'resolver-c' })).status).toBe(200);
      const body = await compliance();
      expect(body.distributors.map((d) => [d.agentId, d.checkpoint])).toEqual([
        ['resolver-a', { ...checkpoint, matchesHub: true }],
        ['resolver-b', { ...checkpoint, matchesHub: true }],
        ['resolver-c', null],
      ]);
      expect((body as unknown as { splitViews: unknown[] }).splitViews).toEqual([]);
    });

    it("flags a split view: two agents holding different roots for one version, one of them not the hub's", async () => {
      const honest = await hubCheckpoint(2);
      const forked = { ...honest, rootHash: otherRoot };
      expect((await report(2, { agentId: 'resolver-a', checkpoint: honest })).status).toBe(200);
      expect((await report(2, { agentId: 'resolver-b', checkpoint: forked }, ispB.token)).status).toBe(200);
      const body = (await compliance()) as unknown as {
        splitViews: unknown[];
        distributors: Array<Record<string, unknown>>;
      };
      expect(body.distributors.map((d) => (d.checkpoint as { matchesHub: boolean }).matchesHub)).toEqual([
        true,
        false,
      ]);
      expect(body.splitViews).toEqual([
        {
          version: 2,
          hubRootHash: honest.rootHash,
          roots: [
            {
              treeSize: honest.treeSize,
              rootHash: honest.rootHash,
              matchesHub: true,
              agents: [
                {
                  tokenId: t.tokenIds.distributor,
                  agentId: 'resolver-a',
                  name: 'test-distributor',
                  feed: 'dns',
                },
              ],
            },
            {
              treeSize: honest.treeSize,
              rootHash: otherRoot,
              matchesHub: false,
              agents: [{ tokenId: ispB.id, agentId: 'resolver-b', name: 'isp-b', feed: 'dns' }],
            },
          ],
        },
      ]);
    });

    it('refuses a checkpoint of another version or without a root, and records nothing', async () => {
      const checkpoint = await hubCheckpoint(2);
      expectError(await report(3, { checkpoint }), 422, 'invalid_input');
      expectError(
        await report(2, { checkpoint: { ...checkpoint, rootHash: 'abc' } }),
        400,
        'invalid_request',
      );
      expectError(await report(2, { checkpoint: { ...checkpoint, treeSize: 0 } }), 400, 'invalid_request');
      expect((await compliance()).distributors).toEqual([]);
    });
  });
});
