import { afterEach, describe, expect, it } from 'vitest';
import { PlainState } from '../../src/core/plain-state.ts';
import type { Change } from '../../src/core/types.ts';
import { inPlainFeed } from '../../src/feeds/feed-definitions.ts';
import { NET_CHANGE_PAGE_ROWS } from '../../src/registry/change-queries.ts';
import { openTestHub, type TestHub } from './feed-hub.ts';

const hubs: TestHub[] = [];
afterEach(async () => {
  for (const opened of hubs.splice(0)) {
    expect(opened.errors).toEqual([]);
    await opened.close();
  }
});

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
});
