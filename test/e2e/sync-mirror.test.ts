import { createReadStream } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StaticIndex } from '../../src/core/static-layout.ts';
import { loadHubConfig } from '../../src/hub/config.ts';
import { type RunningHub, startHub } from '../../src/hub/hub.ts';
import { type AgentProcess, spawnAgent } from '../agent/sync/live-setup.ts';
import { eventually, runCli } from '../helpers/hub.ts';

// `takedown sync --mirror URL`: the agent reads what the real `takedown publish` wrote from a plain static
// file server (no hub API, no long-poll, no token) and verifies it as it verifies the hub's answers: the
// signature, versions, expiry and checksum of every artifact, and the log's consistency from the
// published tiles.

/** The paths the static server was asked for, in order. */
const served: string[] = [];

/** A plain static file server over whatever directory `root()` names, as a CDN or a bucket would be. */
function serveStatic(root: () => string): Promise<Server> {
  const server = createServer(async (req, res) => {
    served.push(req.url ?? '');
    const base = root();
    const path = normalize(join(base, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    const file = path.startsWith(base + sep) ? await stat(path).catch(() => null) : null;
    if (!file?.isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': file.size, 'content-type': 'application/octet-stream' });
    createReadStream(path).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The names an RPZ file answers NXDOMAIN for (`name CNAME .`). */
const blocked = (rpz: string) =>
  rpz
    .split('\n')
    .filter((line) => /^[^\s;]+ CNAME \.(\s|$)/.test(line))
    .map((line) => line.split(' ')[0])
    .filter((name) => !name?.startsWith('*.'))
    .sort();

const applied = (log: string) =>
  log
    .split('\n')
    .filter((l) => l.includes('"event":"applied"'))
    .map((l) => JSON.parse(l) as { kind: string; from: number; to: number });

describe('takedown sync --mirror against a published directory on a static HTTP server', () => {
  let dir: string;
  let hub: RunningHub;
  let server: Server;
  let mirror: string;
  let keyFile: string;
  let root: string;
  const site = () => join(dir, 'site');
  const daemons: AgentProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'takedown-mirror-'));
    const config = loadHubConfig({ dataDir: join(dir, 'hub'), port: 0 });
    hub = await startHub(config);
    await hub.feedsStarted;
    keyFile = join(config.keysDir, 'signing.pub');
    root = site();
    server = await serveStatic(() => root);
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    for (const daemon of daemons) await daemon.stop();
    await new Promise((resolve) => server?.close(resolve));
    await hub?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const order = (reference: string, targets: string[]) => {
    const created = hub.registry.createOrder(
      { reference, authority: 'MIC', category: 'phishing', reason: 'ruling', targets },
      'reg',
    );
    if (!created.ok) throw new Error(created.error.message);
    return created.value.order.id;
  };
  const publish = async () => {
    const run = await runCli(['publish', '--out', site(), '--data', join(dir, 'hub')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/published the log/);
    return JSON.parse(await readFile(join(site(), 'index.json'), 'utf8')) as StaticIndex;
  };
  const agentArgs = (state: string, rpz: string, ...more: string[]) => [
    '--mirror',
    mirror,
    '--feed',
    'dns',
    '--key',
    keyFile,
    '--state',
    join(dir, state),
    '--output',
    `rpz=${join(dir, rpz)}`,
    ...more,
  ];
  const runOnce = async (state: string, rpz: string) => {
    const agent = spawnAgent(agentArgs(state, rpz, '--once'), '');
    const code = await new Promise<number | null>((resolve) => {
      if (agent.child.exitCode !== null) resolve(agent.child.exitCode);
      agent.child.once('exit', (c) => resolve(c));
    });
    return { code, log: agent.log() };
  };
  const rpz = async (name: string) => blocked(await readFile(join(dir, name), 'utf8'));

  it('follows the mirror: the snapshot and its delta, a delta per publish, the snapshot once no delta is left, and as a daemon', async () => {
    order('M/1', ['mirror-one.example']);
    await publish();
    // What an attacker or a stale cache could serve again later.
    await cp(site(), join(dir, 'site-v1'), { recursive: true });
    const first = await runOnce('isp', 'isp.rpz');
    expect(first.code, first.log).toBe(0);
    // The hub's latest snapshot is its start-up one (version 0): the snapshot, then its delta to 1.
    expect(applied(first.log)).toMatchObject([
      { kind: 'snapshot', to: 0 },
      { kind: 'delta', from: 0, to: 1 },
    ]);
    expect(await rpz('isp.rpz')).toEqual(['mirror-one.example']);
    // No --hub: nothing is reported, and the agent says so once.
    expect(first.log.match(/"event":"reports_skipped"/g)).toHaveLength(1);
    expect(first.log).not.toContain('"event":"reported"');

    order('M/2', ['mirror-two.example']);
    await publish();
    served.length = 0;
    const second = await runOnce('isp', 'isp.rpz');
    expect(second.code, second.log).toBe(0);
    expect(applied(second.log)).toMatchObject([{ kind: 'delta', from: 1, to: 2 }]);
    // One version costs the index, the delta, the published checkpoint and the tiles of the proof, then the
    // index again to see it is current: no snapshot, and nothing of the hub's API.
    expect(served[0]).toBe('/index.json');
    expect(served[1]).toMatch(/^\/dns\/delta-1-2-[0-9a-f]{16}\.tkd$/);
    expect(served[2]).toBe('/log/checkpoint');
    expect(served.slice(3, -1).every((path) => path.startsWith('/log/tile/'))).toBe(true);
    expect(served.at(-1)).toBe('/index.json');
    expect(await rpz('isp.rpz')).toEqual(['mirror-one.example', 'mirror-two.example']);

    // The hub takes snapshots as it goes; once three newer ones are retained, no delta starts at 2.
    order('M/3', ['mirror-three.example']);
    await hub.feeds.rebuildSnapshots();
    expect(hub.registry.revokeOrder(1, 'lifted', 'reg').ok).toBe(true);
    await hub.feeds.rebuildSnapshots();
    order('M/4', ['mirror-four.example']);
    await hub.feeds.rebuildSnapshots();
    const index = await publish();
    expect(index.feeds.dns?.snapshot.version).toBe(5);
    expect(index.feeds.dns?.deltas.map((d) => d.from)).not.toContain(2);
    const third = await runOnce('isp', 'isp.rpz');
    expect(third.code, third.log).toBe(0);
    expect(third.log).toContain('"event":"resync"');
    expect(applied(third.log)).toMatchObject([{ kind: 'snapshot', to: 5 }]);
    expect(await rpz('isp.rpz')).toEqual([
      'mirror-four.example',
      'mirror-three.example',
      'mirror-two.example',
    ]);

    // A daemon: a mirror cannot hold a request open, so the agent reads index.json again.
    const daemon = spawnAgent(agentArgs('isp', 'isp.rpz', '--wait', '1', '--interval', '1'), '');
    daemons.push(daemon);
    try {
      order('M/5', ['mirror-five.example']);
      await publish();
      // The state is saved and logged as applied first, then the outputs are written.
      await eventually(
        async () => ((await rpz('isp.rpz')).includes('mirror-five.example') ? true : undefined),
        'the daemon at version 6',
        60_000,
      );
      expect(applied(daemon.log())).toMatchObject([{ kind: 'delta', from: 5, to: 6 }]);
    } finally {
      // The next tests run agents on the same state directory.
      expect(await daemon.stop()).toBe(0);
    }
  }, 180_000);

  it('refuses an altered artifact and altered log tiles, and keeps the outputs as they were', async () => {
    const copy = async (name: string) => {
      await cp(site(), join(dir, name), { recursive: true });
      return join(dir, name);
    };
    const flipLastByte = async (path: string) => {
      const bytes = await readFile(path);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0x01, bytes.length - 1);
      await writeFile(path, bytes);
    };
    // A fresh agent and a snapshot whose payload was altered on the mirror.
    const altered = await copy('site-altered');
    const index = JSON.parse(await readFile(join(altered, 'index.json'), 'utf8')) as StaticIndex;
    await flipLastByte(join(altered, index.feeds.dns?.snapshot.path as string));
    await writeFile(join(dir, 'fresh.rpz'), '; the operator file before the run\n');
    root = altered;
    const fresh = await runOnce('fresh', 'fresh.rpz');
    expect(fresh.code).not.toBe(0);
    expect(fresh.log).toMatch(/"rule":"payload_digest"/);
    expect(await readFile(join(dir, 'fresh.rpz'), 'utf8')).toBe('; the operator file before the run\n');

    // The log tiles of a new version altered: the delta's checkpoint cannot be shown to extend the held one.
    order('M/6', ['mirror-six.example']);
    await publish();
    const forged = await copy('site-forged-log');
    const level0 = join(forged, 'log', 'tile', '0');
    for (const entry of await readdir(level0, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) await flipLastByte(join(entry.parentPath, entry.name));
    }
    const before = await readFile(join(dir, 'isp.rpz'), 'utf8');
    root = forged;
    const refused = await runOnce('isp', 'isp.rpz');
    expect(refused.code).not.toBe(0);
    expect(refused.log).toMatch(/"rule":"log_inconsistent"/);
    expect(await readFile(join(dir, 'isp.rpz'), 'utf8')).toBe(before);

    root = site();
    const genuine = await runOnce('isp', 'isp.rpz');
    expect(genuine.code, genuine.log).toBe(0);
    expect(applied(genuine.log)).toMatchObject([{ kind: 'delta', from: 6, to: 7 }]);
    expect(await rpz('isp.rpz')).toContain('mirror-six.example');
  }, 120_000);

  it('refuses a rolled-back mirror, whether its index.json is the old one or claims a newer version', async () => {
    const before = await readFile(join(dir, 'isp.rpz'), 'utf8');
    const old = join(dir, 'site-v1');
    root = old;
    const behind = await runOnce('isp', 'isp.rpz');
    expect(behind.code).not.toBe(0);
    expect(behind.log).toMatch(/"reason":"mirror_behind"/);
    expect(behind.log).toMatch(/index\.json is at version 1, behind the applied version 7/);
    expect(applied(behind.log)).toEqual([]);

    // index.json is not signed: one rewritten to send the agent to the old files gets them refused.
    const index = JSON.parse(await readFile(join(old, 'index.json'), 'utf8')) as StaticIndex;
    const dns = index.feeds.dns as NonNullable<StaticIndex['feeds']['dns']>;
    const oldDelta = dns.deltas[0]?.path as string;
    dns.version = 8;
    dns.deltas = [{ from: 7, to: 8, path: oldDelta, bytes: 0 }];
    await writeFile(join(old, 'index.json'), JSON.stringify({ ...index, version: 8 }));
    const replayed = await runOnce('isp', 'isp.rpz');
    expect(replayed.code).not.toBe(0);
    expect(replayed.log).toMatch(/"rule":"rollback"/);
    expect(applied(replayed.log)).toEqual([]);
    expect(await readFile(join(dir, 'isp.rpz'), 'utf8')).toBe(before);
    root = site();
  }, 120_000);
});
