import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingTools, type RunningUnbound } from '../../bench/lib/resolvers/unbound.ts';
import {
  type AgentProcess,
  answersWithin,
  INTERNET_ADDRESS,
  type LiveHub,
  spawnAgent,
  startLiveHub,
  startRpzUnbound,
} from '../agent/sync/live-setup.ts';
import { eventually, tempDir } from '../helpers/hub.ts';

// The whole path on loopback: a regulator's order at the real hub, the real agent pulling and verifying
// the signed delta and rewriting its RPZ file, a real Unbound enforcing it; then the revocation.

/** The bound on order-to-enforcement in this test (the benchmark measures the real figure). */
const ENFORCED_WITHIN_MS = 5_000;

describe.skipIf(missingTools(['unbound', 'unbound-control', 'unbound-checkconf']))(
  'takedown sync between the hub and Unbound',
  () => {
    let dir: string;
    let hub: LiveHub;
    let unbound: RunningUnbound & { rpzReload: string };
    let agent: AgentProcess;

    beforeAll(async () => {
      dir = await tempDir('takedown-agent-e2e-');
      await mkdir(join(dir, 'out'));
      const rpzPath = join(dir, 'out', 'takedown.rpz');
      hub = await startLiveHub(join(dir, 'hub'));
      unbound = await startRpzUnbound(dir, rpzPath, true);
      agent = spawnAgent(
        [
          '--hub',
          hub.url,
          '--feed',
          'dns',
          '--key',
          hub.keyFile,
          '--state',
          join(dir, 'state'),
          '--output',
          `rpz=${rpzPath}`,
          '--reload',
          unbound.rpzReload,
          '--wait',
          '30',
        ],
        hub.distributor,
      );
      await eventually(
        async () => (agent.log().includes('"event":"reported"') ? true : undefined),
        `the agent's first report; its log:\n${agent.log()}`,
      );
    });

    afterAll(async () => {
      await agent?.stop();
      await unbound?.stop();
      await hub?.process.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('blocks an ordered name and its sub-domains within seconds, and lifts the block on revocation', async () => {
      expect(await unbound.query('evil-site.test')).toMatchObject({
        status: 'NOERROR',
        answers: [{ data: INTERNET_ADDRESS }],
      });

      const order = await hub.call('POST', '/v1/orders', hub.regulator, {
        reference: '5167/BTTTT-CATTT',
        authority: 'MIC',
        category: 'phishing',
        targets: ['evil-site.test'],
      });
      expect(order.status).toBe(201);
      expect(await answersWithin(unbound, 'evil-site.test', 'NXDOMAIN', ENFORCED_WITHIN_MS)).toBe(true);
      expect((await unbound.query('www.evil-site.test')).status).toBe('NXDOMAIN');
      expect(await unbound.query('good-site.test')).toMatchObject({
        status: 'NOERROR',
        answers: [{ data: INTERNET_ADDRESS }],
      });

      const revoked = await hub.call('POST', `/v1/orders/${order.body.order.id}/revoke`, hub.regulator, {
        reason: 'court ruling 12/2026',
      });
      expect(revoked.status).toBe(200);
      expect(await answersWithin(unbound, 'evil-site.test', 'NOERROR', ENFORCED_WITHIN_MS)).toBe(true);
      expect(await unbound.query('www.evil-site.test')).toMatchObject({
        status: 'NOERROR',
        answers: [{ data: INTERNET_ADDRESS }],
      });

      const shown = await eventually(async () => {
        const list = await hub.call('GET', '/v1/distributors', hub.regulator);
        const mine = list.body.distributors?.find((d: { name: string }) => d.name === 'isp-e2e');
        return mine?.version === revoked.body.version ? mine : undefined;
      }, 'the applied version in GET /v1/distributors');
      expect(shown).toMatchObject({ feed: 'dns', version: revoked.body.version, lagVersions: 0 });
      expect(shown.outputs).toEqual([{ format: 'rpz', path: join(dir, 'out', 'takedown.rpz'), ok: true }]);
    });
  },
);
