import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPublicKey } from '../../src/core/keys.ts';
import { type AgentProcess, spawnAgent } from '../agent/sync/live-setup.ts';
import { openTestHub, type TestHub } from '../feeds/feed-hub.ts';
import { eventually } from '../helpers/hub.ts';

// `takedown sync --mirror URL`: the agent reads what `takedown publish` wrote from a plain static file
// server (no hub API, no long-poll, no token) and verifies it exactly as it verifies the hub's answers.

/** A plain static file server over `root`, as a CDN or a bucket's website endpoint would be. */
function serveStatic(root: string): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    const file = path.startsWith(root + sep) ? await stat(path).catch(() => null) : null;
    if (!file?.isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': file.size, 'content-type': 'application/octet-stream' });
    createReadStream(path).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('takedown sync --mirror against a static HTTP server', () => {
  let dir: string;
  let hub: TestHub;
  let server: Server;
  let mirror: string;
  let keyFile: string;
  const site = () => join(dir, 'site');
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'takedown-mirror-'));
    hub = await openTestHub({ dir: join(dir, 'hub') });
    keyFile = join(dir, 'signing.pub');
    await writeFile(keyFile, `${exportPublicKey(hub.key.publicKey)}\n`);
    server = await serveStatic(site());
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    await new Promise((resolve) => server?.close(resolve));
    await hub?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const agentArgs = (state: string, hosts: string, ...more: string[]) => [
    '--mirror',
    mirror,
    '--feed',
    'dns',
    '--key',
    keyFile,
    '--state',
    join(dir, state),
    '--output',
    `hosts=${join(dir, hosts)}`,
    ...more,
  ];
  const runOnce = async (state: string, hosts: string) => {
    const agent = spawnAgent(agentArgs(state, hosts, '--once'), '');
    const code = await new Promise<number | null>((resolve) => {
      if (agent.child.exitCode !== null) resolve(agent.child.exitCode);
      agent.child.once('exit', (c) => resolve(c));
    });
    return { code, log: agent.log() };
  };
  const applied = (log: string) =>
    log
      .split('\n')
      .filter((l) => l.includes('"event":"applied"'))
      .map((l) => JSON.parse(l) as { kind: string; from: number; to: number });

  it('takes the snapshot and its delta, then one delta per publish, and follows a published mirror as a daemon', async () => {
    await hub.order('malware', ['mirror-one.example']);
    await hub.service.publishStatic(site());
    const first = await runOnce('state', 'hosts');
    expect(first.code, first.log).toBe(0);
    expect(await readFile(join(dir, 'hosts'), 'utf8')).toMatch(/^0\.0\.0\.0 mirror-one\.example /m);
    // The hub's latest snapshot is its start-up one (version 0): the snapshot, then its delta to 1.
    expect(applied(first.log)).toMatchObject([
      { kind: 'snapshot', to: 0 },
      { kind: 'delta', from: 0, to: 1 },
    ]);
    expect(first.log).not.toContain('"event":"reported"');

    await hub.order('phishing', ['mirror-two.example']);
    await hub.service.publishStatic(site());
    const second = await runOnce('state', 'hosts');
    expect(second.code, second.log).toBe(0);
    expect(applied(second.log)).toMatchObject([{ kind: 'delta', from: 1, to: 2 }]);
    const hosts = await readFile(join(dir, 'hosts'), 'utf8');
    expect(hosts).toMatch(/^0\.0\.0\.0 mirror-one\.example /m);
    expect(hosts).toMatch(/^0\.0\.0\.0 mirror-two\.example /m);

    // A daemon on the same state: the mirror cannot hold a request open, so it re-reads index.json.
    const daemon = spawnAgent(agentArgs('state', 'hosts', '--wait', '1', '--interval', '1'), '');
    agents.push(daemon);
    await hub.revoke((await hub.order('malware', ['mirror-three.example'])).id);
    await hub.service.publishStatic(site());
    await eventually(async () => {
      const text = await readFile(join(dir, 'hosts'), 'utf8');
      return applied(daemon.log()).some((a) => a.to === 4) && !/mirror-three/.test(text) ? true : undefined;
    }, 'the daemon at version 4');
    expect(applied(daemon.log())).toMatchObject([{ kind: 'delta', from: 2, to: 4 }]);
  });

  it('refuses an artifact the mirror altered, and keeps the outputs as they were', async () => {
    const index = JSON.parse(await readFile(join(site(), 'index.json'), 'utf8'));
    const path = join(site(), index.feeds.dns.snapshot.path);
    const bytes = await readFile(path);
    const last = bytes.length - 2;
    bytes.writeUInt8(bytes.readUInt8(last) ^ 0x01, last);
    await writeFile(path, bytes);
    await writeFile(join(dir, 'kept'), '# the operator file before the run\n');
    const run = await runOnce('state-fresh', 'kept');
    expect(run.code).not.toBe(0);
    expect(run.log).toMatch(/bad_signature|payload_hash|checksum/);
    expect(await readFile(join(dir, 'kept'), 'utf8')).toBe('# the operator file before the run\n');
  });
});
