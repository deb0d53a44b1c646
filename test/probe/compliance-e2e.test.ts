import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingTools, type RunningUnbound } from '../../bench/lib/resolvers/unbound.ts';
import { checkThroughProxy } from '../../src/probe/http-check.ts';
import { type AgentProcess, answersWithin, spawnAgent, startRpzUnbound } from '../agent/sync/live-setup.ts';
import {
  eventually,
  type HubProcess,
  newTokenText,
  REPO_ROOT,
  startHubProcess,
  tempDir,
} from '../helpers/hub.ts';
import { type RunningSquid, startBlockingSquid, startForwardingDnsmasq, startInternet } from './isp-setup.ts';

// The regulator's loop closed on loopback, with real programs only: the hub; a compliant ISP (agents keeping
// an Unbound RPZ and a Squid url list current); a lagging ISP (its agent stopped after the first version); a
// non-compliant ISP (dnsmasq forwarding everything); and `takedown probe` testing all three from inside.

/** The bound on the compliant ISP's time from order commit to enforcement. */
const ENFORCED_WITHIN_S = 5;

const missing =
  missingTools(['unbound', 'unbound-control', 'unbound-checkconf']) ??
  missingTools(['dnsmasq', 'squid'], { requiredInCi: false });

describe.skipIf(missing)('compliance probes against three ISPs', () => {
  let dir: string;
  let hub: HubProcess;
  let admin: string;
  let regulator: string;
  let internet: RunningUnbound;
  let compliant: RunningUnbound & { rpzReload: string };
  let lagging: RunningUnbound & { rpzReload: string };
  let dnsmasq: Awaited<ReturnType<typeof startForwardingDnsmasq>>;
  let squid: RunningSquid;
  const agents: AgentProcess[] = [];
  let laggingAgent: AgentProcess;
  let probe: ChildProcess;
  let probeLog = '';

  // biome-ignore lint/suspicious/noExplicitAny: replies are JSON whose shape each assertion states
  const call = async (method: string, path: string, token: string, json?: unknown): Promise<any> => {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(json !== undefined && { 'content-type': 'application/json' }),
      },
      ...(json !== undefined && { body: JSON.stringify(json) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return path === '/metrics' ? text : JSON.parse(text);
  };
  const token = async (role: string, name: string) =>
    (await call('POST', '/v1/tokens', admin, { role, name })).token as string;

  const agent = async (name: string, feed: string, output: string, reload: string) => {
    const started = spawnAgent(
      [
        '--hub',
        hub.url,
        '--feed',
        feed,
        '--key',
        join(dir, 'hub', 'keys', 'signing.pub'),
        '--state',
        join(dir, name),
        '--output',
        output,
        '--reload',
        reload,
        '--wait',
        '30',
      ],
      await token('distributor', name),
    );
    agents.push(started);
    await eventually(
      async () => (started.log().includes('"event":"reported"') ? true : undefined),
      `${name}'s first report`,
    );
    return started;
  };

  // biome-ignore lint/suspicious/noExplicitAny: replies are JSON whose shape each assertion states
  const compliance = async (): Promise<any[]> => (await call('GET', '/v1/compliance', regulator)).isps;
  const ispNamed = async (isp: string) => (await compliance()).find((c) => c.isp === isp);

  beforeAll(async () => {
    dir = await tempDir('takedown-probe-e2e-');
    for (const sub of ['hub', 'internet', 'a', 'b', 'squid', 'dnsmasq']) await mkdir(join(dir, sub));
    admin = newTokenText();
    hub = await startHubProcess({ dataDir: join(dir, 'hub'), adminToken: admin });
    regulator = await token('regulator', 'regulator');
    internet = await startInternet(join(dir, 'internet'));
    compliant = await startRpzUnbound(join(dir, 'a'), join(dir, 'a', 'takedown.rpz'), true);
    lagging = await startRpzUnbound(join(dir, 'b'), join(dir, 'b', 'takedown.rpz'), true);
    dnsmasq = await startForwardingDnsmasq(join(dir, 'dnsmasq'), internet.port);
    squid = await startBlockingSquid(join(dir, 'squid'));
    await agent('isp-compliant-dns', 'dns', `rpz=${join(dir, 'a', 'takedown.rpz')}`, compliant.rpzReload);
    await agent(
      'isp-compliant-url',
      'url',
      `squid-url=${squid.urlAcl}`,
      `kill -HUP ${squid.daemon.child.pid}`,
    );
    laggingAgent = await agent(
      'isp-lagging-dns',
      'dns',
      `rpz=${join(dir, 'b', 'takedown.rpz')}`,
      lagging.rpzReload,
    );

    probe = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO_ROOT, 'src/cli/main.ts'),
        'probe',
        '--hub',
        hub.url,
        '--key',
        join(dir, 'probe.key'),
        '--resolver',
        `isp-compliant=127.0.0.1:${compliant.port}`,
        '--resolver',
        `isp-lagging=127.0.0.1:${lagging.port}`,
        '--resolver',
        `isp-noncompliant=127.0.0.1:${dnsmasq.port}`,
        '--proxy',
        `isp-compliant=127.0.0.1:${squid.port}`,
        '--budget',
        '6000',
        '--interval',
        '0.3',
        '--timeout',
        '1',
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, TAKEDOWN_TOKEN: await token('prober', 'probe-1') },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    probe.stderr?.on('data', (chunk: Buffer) => {
      probeLog += chunk;
    });
    await eventually(
      async () => (probeLog.includes('"event":"round"') ? true : undefined),
      `the probe's first round:\n${probeLog}`,
    );
  }, 120_000);

  afterAll(async () => {
    if (probe && probe.exitCode === null) {
      const exited = new Promise((resolve) => probe.once('exit', resolve));
      probe.kill('SIGTERM');
      await exited;
    }
    for (const a of agents) await a.stop();
    await squid?.stop();
    await dnsmasq?.daemon.stop();
    for (const unbound of [compliant, lagging, internet]) await unbound?.stop();
    await hub?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('tells the compliant, the lagging and the non-compliant ISP apart, and times enforcement', async () => {
    const first = await call('POST', '/v1/orders', regulator, {
      reference: 'ORD-1',
      authority: 'MIC',
      category: 'phishing',
      targets: ['old-evil.test', 'http://files.test/phish/'],
    });
    expect(await answersWithin(lagging, 'old-evil.test', 'NXDOMAIN', 10_000)).toBe(true);
    expect(await answersWithin(compliant, 'old-evil.test', 'NXDOMAIN', 10_000)).toBe(true);
    await eventually(async () => {
      const phish = await checkThroughProxy('http://files.test/phish/', {
        proxy: { host: '127.0.0.1', port: squid.port },
        timeoutMs: 3000,
      });
      return phish.verdict === 'blocked' ? true : undefined;
    }, 'Squid enforcing the first url entry');
    await laggingAgent.stop();

    await call('POST', '/v1/orders', regulator, {
      reference: 'ORD-2',
      authority: 'MIC',
      category: 'fraud',
      targets: ['new-evil.test', 'http://files.test/kit/'],
    });
    await call('POST', `/v1/orders/${first.order.id}/revoke`, regulator, { reason: 'court ruling 12/2026' });
    const version = first.version + 2;

    const done = await eventually(
      async () => {
        const c = await ispNamed('isp-compliant');
        const ready =
          c !== undefined &&
          c.canary?.enforcedVersion === version &&
          c.timeToBlock.samples >= 2 &&
          c.timeToUnblock.samples >= 2 &&
          c.timeToBlock.pending === 0 &&
          c.timeToUnblock.pending === 0 &&
          c.enforcedShare === 1;
        return ready ? c : undefined;
      },
      'the compliant ISP fully observed',
      60_000,
    ).catch(async (error) => {
      throw new Error(`${error.message}:\n${JSON.stringify(await compliance())}\n${probeLog.slice(-3000)}`);
    });
    expect(done).toMatchObject({ status: 'compliant', flags: [], canary: { lagVersions: 0 } });
    expect(done.timeToBlock.p95).toBeLessThan(ENFORCED_WITHIN_S);
    expect(done.timeToUnblock.p95).toBeLessThan(ENFORCED_WITHIN_S);

    const behind = await ispNamed('isp-lagging');
    expect(behind).toMatchObject({
      status: 'lagging',
      canary: { expectedVersion: version, enforcedVersion: first.version, lagVersions: 2 },
    });
    expect(behind?.flags).toEqual(['canary_behind', 'unenforced_entries', 'blocked_after_revocation']);

    const none = await ispNamed('isp-noncompliant');
    expect(none).toMatchObject({
      status: 'non-compliant',
      enforcedShare: 0,
      canary: { enforcedVersion: null },
    });
    expect(none?.flags).toEqual(['canary_missing', 'unenforced_entries']);

    const metrics = await call('GET', '/metrics', regulator);
    expect(metrics).toContain('takedown_probe_enforced_ratio{isp="isp-compliant"} 1');
    expect(metrics).toContain('takedown_probe_enforced_ratio{isp="isp-noncompliant"} 0');
    expect(metrics).toContain('takedown_probe_canary_lag_versions{isp="isp-lagging"} 2');
    expect(metrics).toContain('takedown_probe_compliant{isp="isp-compliant",status="compliant"} 1');
  }, 120_000);

  it('answers the current canary from a compliant resolver and 451 with Link rel="blocked-by" from its proxy', async () => {
    const version = (await call('GET', '/v1/compliance', regulator)).version;
    const canary = await compliant.query(`v${version}.canary.takedown`, 'TXT');
    expect(canary.status).toBe('NOERROR');
    expect(Buffer.from(canary.answers[0]?.data ?? '', 'hex').toString()).toContain(
      `takedown-canary v=${version}`,
    );
    expect((await dnsmasq.daemon.output()) !== undefined).toBe(true);
    const kit = await checkThroughProxy('http://files.test/kit/', {
      proxy: { host: '127.0.0.1', port: squid.port },
      timeoutMs: 3000,
    });
    expect(kit).toMatchObject({ verdict: 'blocked', reason: 'http-451-blocked-by' });
    const other = await checkThroughProxy('http://files.test/other', {
      proxy: { host: '127.0.0.1', port: squid.port },
      timeoutMs: 3000,
    });
    expect(other).toMatchObject({ verdict: 'not-blocked', reason: 'http-200' });
  });
});
