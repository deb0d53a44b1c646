import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../../src/core/keys.ts';
import { testApp } from '../../helpers/hub.ts';
import { type Harness, harness } from './agent-harness.ts';
import { artifact, domain, FakeHub } from './fake-hub.ts';

// The agent follows the transparency log: each artifact's checkpoint must extend the one it holds.

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(() => h.close());

const stateJson = async () => JSON.parse(await readFile(join(h.dir, 'state', 'state.json'), 'utf8'));

describe('the agent and the transparency log', () => {
  it('refuses a delta whose log rewrote the tree it holds, keeps its outputs, counts it, and fetches no snapshot', async () => {
    h.hub.publish([domain('a.test')]);
    h.hub.publish([domain('a.test'), domain('b.test')]);
    const agent = await h.open();
    expect(await agent.syncOnce()).toBe(true);
    expect((await stateJson()).checkpoint).toMatch(/^takedown\n2\n/);

    // The hub rewrites version 1's leaf (an entry slipped in and out again), then publishes version 3.
    h.hub.rewriteLeaf(0, 'version 1: 1 entries, one of them never ordered');
    h.hub.publish([domain('a.test'), domain('b.test'), domain('c.test')]);
    const before = await h.disk();
    expect(await agent.poll(0)).toEqual({ status: 'rejected', code: 'log_inconsistent' });
    expect(await agent.poll(0)).toEqual({ status: 'rejected', code: 'log_inconsistent' });
    expect(agent.version).toBe(2);
    expect(await h.disk()).toEqual(before);
    expect(h.hub.snapshotsSent).toBe(1);
    expect(h.hub.proofRequests).toEqual([
      '/v1/log/proof/consistency?from=2&to=3',
      '/v1/log/proof/consistency?from=2&to=3',
    ]);
    expect(h.events('rejected')[0]).toMatchObject({ level: 'error', rule: 'log_inconsistent', applied: 2 });
    expect(agent.metrics.render()).toContain('takedown_sync_rejections_total{reason="log_inconsistent"} 2');

    // A restart remembers the checkpoint: the forked log is still refused, even from a snapshot.
    const restarted = await h.open();
    expect(await restarted.syncOnce()).toBe(false);
    expect(restarted.version).toBe(2);
    expect(h.events('rejected').at(-1)).toMatchObject({ rule: 'log_inconsistent' });
  });

  it('applies a consistent delta after one proof request, and none when the tree did not grow', async () => {
    h.hub.publish([domain('a.test')]);
    h.hub.publish([domain('b.test')]);
    const agent = await h.open();
    expect(await agent.syncOnce()).toBe(true);
    expect(h.hub.proofRequests).toEqual([]);
    h.hub.publish([domain('c.test')]);
    expect(await agent.poll(0)).toMatchObject({ status: 'applied', version: 3 });
    expect(h.hub.proofRequests).toEqual(['/v1/log/proof/consistency?from=2&to=3']);
    expect(h.hub.reports.at(-1)?.checkpoint).toMatchObject({ version: 3, treeSize: 3 });

    // Damaged entries: the agent starts again from the snapshot of version 3, whose tree is the one it
    // holds, checked against the held root without a request.
    await writeFile(join(h.dir, 'state', 'entries-3.tsv'), 'damaged\n');
    const reloaded = await h.open();
    expect(await reloaded.syncOnce()).toBe(true);
    expect(reloaded.version).toBe(3);
    expect(h.hub.snapshotsSent).toBe(2);
    expect(h.hub.proofRequests).toHaveLength(1);
  });

  it('accepts an artifact without a checkpoint only while it holds none', async () => {
    h.hub.checkpoints = false;
    h.hub.publish([domain('a.test')]);
    const agent = await h.open();
    expect(await agent.syncOnce()).toBe(true);
    expect(h.hub.reports.at(-1)).not.toHaveProperty('checkpoint');
    expect((await stateJson()).checkpoint).toBeUndefined();

    h.hub.checkpoints = true;
    h.hub.publish([domain('b.test')]);
    expect(await agent.poll(0)).toMatchObject({ status: 'applied', version: 2 });
    expect(h.hub.reports.at(-1)?.checkpoint).toMatchObject({ version: 2, treeSize: 2 });

    h.hub.checkpoints = false;
    h.hub.publish([domain('c.test')]);
    expect(await agent.poll(0)).toEqual({ status: 'rejected', code: 'checkpoint_missing' });
    expect(agent.version).toBe(2);
  });

  it('refuses a checkpoint signed by a key it does not trust, inside an artifact signed by one it trusts', async () => {
    h.hub.publish([domain('a.test')]);
    const agent = await h.open();
    expect(await agent.syncOnce()).toBe(true);
    h.hub.publish([domain('b.test')]);
    const foreign = await h.hub.checkpoint(2, await generateSigningKey());
    h.hub.overrides.push({
      match: (p) => p.startsWith('/v1/feeds/dns/delta'),
      answer: async () => artifact(await h.hub.delta(1, 2, { checkpoint: foreign })),
    });
    expect(await agent.poll(0)).toEqual({ status: 'rejected', code: 'checkpoint_invalid' });
    expect(agent.version).toBe(1);
  });

  it('refuses a delta when the hub gives no proof, and applies it once the proof comes', async () => {
    h.hub.publish([domain('a.test')]);
    const agent = await h.open();
    expect(await agent.syncOnce()).toBe(true);
    h.hub.publish([domain('b.test')]);
    // The proof route is down: the agent cannot tell a fork from an extension and keeps version 1.
    h.hub.proofsDown = true;
    expect(await agent.poll(0)).toEqual({ status: 'rejected', code: 'proof_unavailable' });
    expect(agent.version).toBe(1);
    h.hub.proofsDown = false;
    expect(await agent.poll(0)).toMatchObject({ status: 'applied', version: 2 });
  });
});

describe('a hub showing two agents two different trees', () => {
  it('shows up as a split view in GET /v1/distributors', async () => {
    const t = await testApp();
    const other = new FakeHub(h.hub.key);
    await other.listen();
    try {
      for (const reference of ['O-1', 'O-2']) {
        const json = { reference, authority: 'A', category: 'gambling', targets: [`${reference}.example`] };
        expect((await t.call('POST', '/v1/orders', { as: 'regulator', json })).status).toBe(201);
      }
      // Both fake hubs pass the agents' reports on to the real hub, as one hub would record them.
      for (const fake of [h.hub, other]) {
        fake.forwardReports = async (json) => {
          expect((await t.call('POST', '/v1/distributors/report', { as: 'distributor', json })).status).toBe(
            200,
          );
        };
        fake.publish([domain('a.test')]);
        fake.publish([domain('a.test'), domain('b.test')]);
      }
      // The same lists, signed by the same key, over two logs: version 1 has a different leaf in the second.
      other.rewriteLeaf(0, 'version 1: an order only agent B is shown');
      const a = await h.open({ 'agent-id': 'resolver-a' });
      const b = await h.open({
        'agent-id': 'resolver-b',
        hub: other.url,
        state: join(h.dir, 'state-b'),
        output: [`hosts=${join(h.dir, 'hosts-b')}`],
      });
      expect(await a.syncOnce()).toBe(true);
      expect(await b.syncOnce()).toBe(true);

      const r = await t.call('GET', '/v1/distributors', { as: 'regulator' });
      expect(r.status).toBe(200);
      const [view, ...more] = r.body.splitViews;
      expect(more).toEqual([]);
      expect(view).toMatchObject({ version: 2 });
      expect(
        view.roots.map((root: { agents: Array<{ agentId: string }> }) => root.agents.map((x) => x.agentId)),
      ).toEqual([['resolver-a'], ['resolver-b']]);
      expect(view.roots.map((root: { treeSize: number }) => root.treeSize)).toEqual([2, 2]);
      // Neither fake log is the hub's own: every reported root is flagged as not the hub's.
      expect(
        r.body.distributors.map((d: { checkpoint: { matchesHub: boolean } }) => d.checkpoint.matchesHub),
      ).toEqual([false, false]);
    } finally {
      await other.close();
      await t.close();
    }
  });
});
