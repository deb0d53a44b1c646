import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type AgentProcess, type LiveHub, spawnAgent, startLiveHub } from '../agent/sync/live-setup.ts';
import { eventually, type HubProcess, startHubProcess, tempDir } from '../helpers/hub.ts';

// A hub outage with the real programs: `takedown serve` stopped and started again on the same port while
// `takedown sync` keeps running. The agent must be current seconds after the hub is back, and say so.

/** The bound: after the hub comes back, the agent holds its latest version within this. */
const CURRENT_WITHIN_MS = 5_000;
/** Failed polls before the hub returns: the plain exponential back-off would then wait 16 s or more. */
const FAILURES_DURING_OUTAGE = 5;

const events = (log: string) =>
  log
    .trim()
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as { event: string; [k: string]: unknown }];
      } catch {
        return [];
      }
    });

describe('takedown sync across a hub restart', () => {
  let dir: string;
  let hub: LiveHub;
  let restarted: HubProcess | undefined;
  let agent: AgentProcess;

  afterAll(async () => {
    await agent?.stop();
    await restarted?.stop();
    await hub?.process.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is current within 5 s of the hub coming back, logging each retry and the recovery', async () => {
    dir = await tempDir('takedown-recovery-');
    await mkdir(join(dir, 'out'));
    const rpzPath = join(dir, 'out', 'takedown.rpz');
    hub = await startLiveHub(join(dir, 'hub'));
    const args = ['--hub', hub.url, '--feed', 'dns', '--key', hub.keyFile, '--state', join(dir, 'state')];
    agent = spawnAgent([...args, '--output', `rpz=${rpzPath}`, '--wait', '30'], hub.distributor);
    await eventually(
      async () => (agent.log().includes('"event":"reported"') ? true : undefined),
      `the agent's first report; its log:\n${agent.log()}`,
    );

    await hub.process.stop();
    await eventually(
      async () =>
        events(agent.log()).filter((e) => e.event === 'fetch_failed').length >= FAILURES_DURING_OUTAGE
          ? true
          : undefined,
      `${FAILURES_DURING_OUTAGE} failed polls; the agent's log:\n${agent.log()}`,
      60_000,
    );
    restarted = await startHubProcess({
      dataDir: join(dir, 'hub'),
      args: ['--port', String(hub.process.port)],
    });
    const back = performance.now();
    const order = await hub.call('POST', '/v1/orders', hub.regulator, {
      reference: 'OUTAGE-1',
      authority: 'MIC',
      category: 'phishing',
      targets: ['after-outage.test'],
    });
    expect(order.status).toBe(201);
    await eventually(
      async () =>
        (await readFile(rpzPath, 'utf8')).includes('after-outage.test CNAME .') ? true : undefined,
      `the order in the RPZ file; the agent's log:\n${agent.log()}`,
      30_000,
    );
    const elapsed = performance.now() - back;
    console.log(`current ${Math.round(elapsed)} ms after the hub came back`);
    expect(elapsed, `current ${Math.round(elapsed)} ms after the hub came back`).toBeLessThan(
      CURRENT_WITHIN_MS,
    );

    // The recovery is logged once the poll that applied the order returns (after its report is sent).
    await eventually(
      async () => (events(agent.log()).some((e) => e.event === 'recovered') ? true : undefined),
      `the recovery in the agent's log:\n${agent.log()}`,
    );
    const log = events(agent.log());
    const retries = log.filter((e) => e.event === 'retry_scheduled');
    expect(retries.length).toBeGreaterThanOrEqual(FAILURES_DURING_OUTAGE);
    // Refused connections while the hub was down, then perhaps a 503 while it builds its first snapshots.
    expect(retries.filter((r) => r.reason === 'network').length).toBeGreaterThanOrEqual(
      FAILURES_DURING_OUTAGE,
    );
    for (const retry of retries) expect(retry.delayMs).toEqual(expect.any(Number));
    expect(Math.max(...retries.map((r) => r.delayMs as number))).toBeLessThanOrEqual(3_000);
    expect(log.find((e) => e.event === 'recovered')).toMatchObject({
      failures: expect.any(Number),
      downSeconds: expect.any(Number),
    });
  }, 120_000);
});
