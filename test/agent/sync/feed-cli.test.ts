import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/hub.ts';
import { type Harness, harness } from './agent-harness.ts';
import { artifact, domain } from './fake-hub.ts';

// `takedown feed pull`, the debugging view of what the hub serves, against the fake hub.

let h: Harness;
beforeEach(async () => {
  h = await harness();
  h.hub.publish([domain('a.test'), domain('b.test')]);
  h.hub.publish([domain('b.test'), domain('c.test', 'redirect')]);
});
afterEach(async () => {
  await h.close();
});

const pull = (...args: string[]) =>
  runCli(['feed', 'pull', '--feed', 'dns', '--key', h.keyFile, ...args], {
    env: { TAKEDOWN_HUB: h.hub.url, TAKEDOWN_TOKEN: 'tdk_test' },
  });

describe('takedown feed pull', () => {
  it('prints a delta: manifest, verification, then its changes', async () => {
    const run = await pull('--since', '1');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^kind {5}delta$/m);
    expect(run.stdout).toMatch(/^versions 1 -> 2$/m);
    expect(run.stdout).toContain('verify   OK');
    expect(run.stdout).toContain('- a.test/\n+ c.test/\tdomain\tmalware\tredirect\n(2 changes)');
    expect(h.hub.requests).toEqual(['/v1/feeds/dns/delta?since=1']);
  });

  it('prints the snapshot without --since, and says when there is nothing new', async () => {
    const snapshot = await pull();
    expect(snapshot.code).toBe(0);
    expect(snapshot.stdout).toContain(
      'b.test/\tdomain\tmalware\tblock\nc.test/\tdomain\tmalware\tredirect\n(2 entries)',
    );
    const current = await pull('--since', '2');
    expect(current).toMatchObject({ code: 0, stdout: 'current: the hub has nothing after version 2\n' });
  });

  it('exits 1 and names the rule when the artifact fails verification', async () => {
    const bytes = await h.hub.snapshot(2, { feed: 'url' });
    h.hub.overrides.push({ match: () => true, answer: () => artifact(bytes) });
    const run = await pull();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('verify   FAIL wrong_feed');
  });
});
