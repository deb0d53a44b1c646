import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PlainState } from '../../src/core/plain-state.ts';
import type { Change } from '../../src/core/types.ts';
import { ArtifactConflictError } from '../../src/feeds/artifact-store.ts';
import { inPlainFeed } from '../../src/feeds/feed-definitions.ts';
import { snapshotKey } from '../../src/feeds/snapshot-catalog.ts';
import { NET_CHANGE_PAGE_ROWS } from '../../src/registry/change-queries.ts';
import { openTestHub, type TestHub } from './feed-hub.ts';

const hubs: TestHub[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const opened of hubs.splice(0)) {
    expect(opened.errors).toEqual([]);
    await opened.close();
  }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** What is left in the store's staging directory (scans write their artifacts there first). */
const staged = async (h: TestHub) =>
  readdir(join(h.dir, 'artifacts', '.staging'), { recursive: true }).catch(() => []);

/** Counts turns of the event loop until stopped: what a /healthz timer beside the follower would get. */
function loopTicker(): { stop(): number } {
  let ticks = 0;
  let running = true;
  const tick = () => {
    ticks++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop() {
      running = false;
      return ticks;
    },
  };
}

describe('FeedFollower', () => {
  it('reads a version of more changes than a page of the log in several turns and shows it once, whole', async () => {
    const h = await openTestHub();
    hubs.push(h);
    const shown: { version: number; changes: readonly Change[] | null }[] = [];
    h.service.onDnsVersion((version, _state, changes) => shown.push({ version, changes }));
    const before = h.service.version ?? -1;
    const targets = Array.from({ length: NET_CHANGE_PAGE_ROWS * 2 + 10 }, (_, i) => `page-${i}.example`);
    const created = h.registry.createOrder(
      { reference: 'PAGES', authority: 'Test Authority', category: 'phishing', targets },
      'test',
    );
    if (!created.ok) throw new Error(created.error.message);
    const { version } = created.value;

    // Every turn of the loop while the follower works sees the previous version or the whole new one.
    const seen = new Set<number | null>();
    let watching = true;
    const watch = () => {
      seen.add(h.service.version);
      if (watching) setImmediate(watch);
    };
    watch();
    const ticker = loopTicker();
    h.service.committed(version);
    expect(await h.service.waitForVersion(before, 30_000)).toBe(version);
    const ticks = ticker.stop();
    watching = false;
    seen.add(h.service.version);

    expect([...seen]).toEqual([before, version]);
    const single = [...h.registry.netChanges(before, version)];
    expect(single).toHaveLength(targets.length);
    expect(shown.slice(1)).toEqual([
      { version, changes: single.filter((c) => inPlainFeed('dns', c, ['csam'])) },
    ]);
    // The loop kept turning: at least once per page of the log read, besides the mirrors' own steps.
    expect(ticks).toBeGreaterThan(Math.ceil(targets.length / NET_CHANGE_PAGE_ROWS));
    // The state the feeds show is the registry's, as a fresh read of it would build.
    const dns = PlainState.fromEntries(h.entries().filter((e) => inPlainFeed('dns', e, ['csam'])));
    const delta = await h.service.delta('dns', before);
    if (delta.kind !== 'artifact') throw new Error(`no delta: ${delta.kind}`);
    expect(delta.artifact.manifest.checksum).toBe(await dns.checksum());
    expect(delta.artifact.manifest.entryCount).toBe(dns.entryCount);
  });

  it('keeps the very same mirrors after a rebuild that agrees with them, and stores the new snapshots', async () => {
    const h = await openTestHub();
    hubs.push(h);
    const shown: { version: number; state: PlainState; changes: readonly Change[] | null }[] = [];
    h.service.onDnsVersion((version, state, changes) => shown.push({ version, state, changes }));
    const { version } = await h.order('phishing', [
      'kept-a.example',
      'kept-b.example',
      'http://kept-c.example/x',
    ]);
    const before = shown.at(-1);
    expect(before?.version).toBe(version);

    await h.service.rebuildSnapshots();
    expect(h.service.feeds().map((f) => f.snapshotVersion)).toEqual([version, version, version]);
    // No second state was built: the DNS primary heard of nothing new and still holds the same object.
    expect(shown.at(-1)).toBe(before);
    const more = await h.order('malware', ['after.example']);
    expect(shown.at(-1)?.version).toBe(more.version);
    expect(await staged(h)).toEqual([]);
  });

  it('leaves no staged file when a scan fails to store its snapshots', async () => {
    const h = await openTestHub();
    hubs.push(h);
    const next = h.registry.currentVersion() + 1;
    // Another artifact already stored under the key the next snapshot of url takes.
    await h.store.put(snapshotKey('url', next), Uint8Array.of(1, 2, 3));
    await h.order('phishing', ['one.example', 'http://two.example/x']);
    await h.service.rebuildSnapshots();
    expect(h.errors.map((e) => e.name)).toEqual([ArtifactConflictError.name]);
    h.errors.length = 0;
    expect(await staged(h)).toEqual([]);
  });

  it('leaves no staged file when a stop aborts a scan', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'takedown-follower-abort-'));
    dirs.push(dir);
    const h = await openTestHub({ dir });
    await h.order(
      'phishing',
      Array.from({ length: 20_000 }, (_, i) => `abort-${i}.example`),
    );
    const rebuilt = h.service.rebuildSnapshots();
    await h.close();
    await rebuilt;
    expect(await staged(h)).toEqual([]);
  });
});
