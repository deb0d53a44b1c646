import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveHub, spawnAgent, startLiveHub } from '../agent/sync/live-setup.ts';
import { eventually, tempDir } from '../helpers/hub.ts';

// `takedown sync --once` is what a cron job or a CI check runs: it must reach the hub's latest version
// (snapshot, then deltas), even when the hub's latest snapshot is older than its latest version.

describe('takedown sync --once against a real hub', () => {
  let dir: string;
  let hub: LiveHub;

  beforeAll(async () => {
    dir = await tempDir('takedown-once-');
    hub = await startLiveHub(join(dir, 'hub'));
  });

  afterAll(async () => {
    await hub?.process.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('right after an order, on a fresh state directory, writes a zone holding the order and reports its version', async () => {
    const dnsFeed = async () => {
      const r = await hub.call('GET', '/v1/feeds', hub.distributor);
      return {
        version: r.body.version as number,
        ...r.body.feeds.find((f: { feed: string }) => f.feed === 'dns'),
      };
    };
    const first = await hub.call('POST', '/v1/orders', hub.regulator, {
      reference: 'ONCE/1',
      authority: 'MIC',
      category: 'phishing',
      targets: ['first.example'],
    });
    expect(first.status).toBe(201);
    // The first change of a hub builds a snapshot at once; the next ones wait for 10 000 changes or 300 s.
    await eventually(
      async () => ((await dnsFeed()).snapshotVersion === first.body.version ? true : undefined),
      'the first snapshot',
    );
    const order = await hub.call('POST', '/v1/orders', hub.regulator, {
      reference: 'ONCE/2',
      authority: 'MIC',
      category: 'phishing',
      targets: ['once-evil.example', 'c.d.e.f.once-deep.example'],
    });
    expect(order.status).toBe(201);
    const feed = await eventually(async () => {
      const f = await dnsFeed();
      return f.version === order.body.version ? f : undefined;
    }, 'the feeds at the order version');
    // The case of the report: the hub is at the order's version, its latest snapshot is older.
    expect(feed.snapshotVersion).toBeLessThan(order.body.version);

    const rpzPath = join(dir, 'fresh.rpz');
    const run = await waitExit(hub, join(dir, 'state-fresh'), rpzPath);
    expect(run.code, run.log).toBe(0);
    const zone = await readFile(rpzPath, 'utf8');
    expect(zone).toMatch(/^first\.example\s/m);
    expect(zone).toMatch(/^once-evil\.example\s/m);
    expect(zone).toMatch(/^\*\.c\.d\.e\.f\.once-deep\.example\s/m);
    const applied = run.log
      .split('\n')
      .filter((l) => l.includes('"event":"applied"'))
      .map((l) => JSON.parse(l).to as number);
    expect(applied.at(-1)).toBe(order.body.version);
    expect(run.log).toContain('"event":"reported"');
    // Rendered once, at the latest version, not once per artifact.
    expect(
      run.log.split('\n').filter((l) => l.includes('"event":"output_applied"')).length,
    ).toBeLessThanOrEqual(1);
  });

  it('exits non-zero with the reason and leaves the outputs as they were when the hub is unreachable', async () => {
    const rpzPath = join(dir, 'kept.rpz');
    await writeFile(rpzPath, '; the operator file before the run\n');
    const run = await waitExit(hub, join(dir, 'state-down'), rpzPath, 'http://127.0.0.1:9');
    expect(run.code).not.toBe(0);
    expect(run.log).toContain('"event":"once_incomplete"');
    expect(await readFile(rpzPath, 'utf8')).toBe('; the operator file before the run\n');
  });
});

async function waitExit(hub: LiveHub, stateDir: string, rpzPath: string, hubUrl = hub.url) {
  const agent = spawnAgent(
    [
      '--hub',
      hubUrl,
      '--feed',
      'dns',
      '--key',
      hub.keyFile,
      '--state',
      stateDir,
      '--output',
      `rpz=${rpzPath}`,
      '--once',
    ],
    hub.distributor,
  );
  const code = await new Promise<number | null>((resolve) => {
    if (agent.child.exitCode !== null) resolve(agent.child.exitCode);
    agent.child.once('exit', (c) => resolve(c));
  });
  return { code, log: agent.log() };
}
