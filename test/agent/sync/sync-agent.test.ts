import { readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { payloadOffsetOf } from '../../../src/core/artifact.ts';
import { exportPublicKey, generateSigningKey } from '../../../src/core/keys.ts';
import { encodeKeySet } from '../../../src/core/keyset.ts';
import { gzipBomb, stallAfterHeaders, trickle } from '../../helpers/hostile-http.ts';
import { type Harness, harness, until } from './agent-harness.ts';
import { artifact, DAY, domain } from './fake-hub.ts';

/** Whether an RPZ file holds `name CNAME .` (NXDOMAIN). */
const blocks = (text: string, name: string) =>
  text.split('\n').some((line) => line.startsWith(`${name} CNAME . `));

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

describe('applying the feed', () => {
  it('starts from a snapshot, follows with deltas, renders every output and reports each version', async () => {
    h.hub.publish([domain('blocked.test'), domain('casino.test', 'redirect')]);
    const agent = await h.open();
    expect(await agent.syncOnce()).toBe(true);
    expect(h.hub.requests[0]).toBe('/v1/feeds/dns/snapshot');
    const rpz = await readFile(h.rpzPath, 'utf8');
    expect(blocks(rpz, 'blocked.test')).toBe(true);
    expect(blocks(rpz, '*.blocked.test')).toBe(true);
    expect(await readFile(h.hostsPath, 'utf8')).toMatch(/^0\.0\.0\.0 blocked\.test #/m);
    expect(h.hub.reports).toEqual([
      {
        agentId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        feed: 'dns',
        version: 1,
        appliedAt: expect.any(String),
        outputs: [
          { format: 'rpz', path: h.rpzPath, ok: true },
          { format: 'hosts', path: h.hostsPath, ok: true },
        ],
        checkpoint: { version: 1, treeSize: 1, rootHash: expect.any(String) },
      },
    ]);

    h.hub.publish([domain('casino.test', 'redirect'), domain('new.test')]);
    expect(await agent.poll(0)).toMatchObject({ status: 'applied', version: 2 });
    expect(h.hub.requests.at(-2)).toBe('/v1/feeds/dns/delta?since=1');
    const after = await readFile(h.rpzPath, 'utf8');
    expect(blocks(after, 'new.test')).toBe(true);
    expect(blocks(after, 'blocked.test')).toBe(false);
    expect(h.hub.reports.at(-1)).toMatchObject({ version: 2 });
    const state = JSON.parse(await readFile(join(h.dir, 'state', 'state.json'), 'utf8'));
    expect(state.applied).toMatchObject({ version: 2, entryCount: 2 });
    expect(await readFile(join(h.dir, 'state', 'entries-2.tsv'), 'utf8')).toBe(
      'casino.test/\tdomain\tmalware\tredirect\nnew.test/\tdomain\tmalware\tblock\n',
    );

    expect(await agent.poll(0)).toMatchObject({ status: 'current', version: 2 });
    expect(agent.metrics.render()).toMatch(/^takedown_sync_applied_version 2$/m);
    expect(agent.metrics.render()).toMatch(/^takedown_sync_applies_total\{kind="delta"\} 1$/m);
  });

  it('reports under an id generated once and kept in the state directory; --agent-id overrides it', async () => {
    h.hub.publish([domain('a.test')]);
    expect(await (await h.open()).syncOnce()).toBe(true);
    const kept = (await readFile(join(h.dir, 'state', 'agent-id'), 'utf8')).trim();
    expect(h.hub.reports.at(-1)?.agentId).toBe(kept);

    h.hub.publish([domain('b.test')]);
    expect(await (await h.open()).syncOnce()).toBe(true);
    expect(h.hub.reports.at(-1)).toMatchObject({ agentId: kept, version: 2 });

    h.hub.publish([domain('c.test')]);
    expect(await (await h.open({ 'agent-id': 'resolver-7.isp.example' })).syncOnce()).toBe(true);
    expect(h.hub.reports.at(-1)).toMatchObject({ agentId: 'resolver-7.isp.example', version: 3 });
    expect((await readFile(join(h.dir, 'state', 'agent-id'), 'utf8')).trim()).toBe(kept);
    expect(() => h.config({ 'agent-id': 'two words' })).toThrow('flags: agent-id');
  });

  it('restores the outputs from local state when the hub is unreachable', async () => {
    h.hub.publish([domain('blocked.test')]);
    expect(await (await h.open()).syncOnce()).toBe(true);
    await unlink(h.rpzPath);
    await h.hub.close();

    const restarted = await h.open();
    expect(restarted.version).toBe(1);
    expect(await restarted.syncOnce()).toBe(false);
    expect(blocks(await readFile(h.rpzPath, 'utf8'), 'blocked.test')).toBe(true);
    expect(h.events('fetch_failed')[0]).toMatchObject({ reason: 'network' });
  });

  it('starts again from a snapshot when the saved entries are damaged', async () => {
    h.hub.publish([domain('blocked.test')]);
    expect(await (await h.open()).syncOnce()).toBe(true);
    await writeFile(join(h.dir, 'state', 'entries-1.tsv'), 'evil.test/\tdomain\tmalware\tblock\n');

    const restarted = await h.open();
    expect(restarted.version).toBeNull();
    expect(h.events('local_state_damaged')).toHaveLength(1);
    const before = h.hub.requests.length;
    expect(await restarted.syncOnce()).toBe(true);
    // A snapshot, then the delta poll that finds the agent current, then the report.
    expect(h.hub.requests.slice(before, before + 2)).toEqual([
      '/v1/feeds/dns/snapshot',
      '/v1/feeds/dns/delta?since=1',
    ]);
  });

  it('fetches a snapshot when the hub keeps no delta from the applied version', async () => {
    h.hub.publish([domain('a.test')]);
    const agent = await h.open();
    await agent.syncOnce();
    h.hub.publish([domain('b.test')]);
    h.hub.versions.delete(1);
    expect(await agent.poll(0)).toMatchObject({ status: 'applied', version: 2 });
    expect(h.hub.requests.slice(-3, -1)).toEqual(['/v1/feeds/dns/delta?since=1', '/v1/feeds/dns/snapshot']);
    expect(h.events('resync')).toHaveLength(1);
  });

  it('resyncs from a snapshot after a delta whose resulting state does not match its checksum', async () => {
    h.hub.publish([domain('a.test')]);
    const agent = await h.open();
    await agent.syncOnce();
    h.hub.publish([domain('a.test'), domain('b.test')]);
    const lying = await h.hub.delta(1, 2, { checksum: 'ab'.repeat(32) });
    h.hub.overrides.push({ match: (p) => p.includes('/delta'), answer: () => artifact(lying), once: true });
    const before = await h.disk();

    expect(await agent.poll(0)).toEqual({ status: 'rejected', code: 'checksum_mismatch' });
    expect(await h.disk()).toEqual(before);
    expect(await agent.poll(0)).toMatchObject({ status: 'applied', version: 2 });
    expect(h.hub.requests.filter((p) => p.endsWith('/snapshot'))).toHaveLength(2);
  });

  it("passes the hub's Retry-After on as the least wait", async () => {
    h.hub.overrides.push({
      match: () => true,
      answer: () => ({ status: 503, body: 'busy', headers: { 'retry-after': '7' } }),
    });
    const agent = await h.open();
    expect(await agent.poll(0)).toEqual({ status: 'failed', reason: 'http', retryAfterMs: 7000 });
    expect(agent.metrics.render()).toMatch(/^takedown_sync_fetch_failures_total\{reason="http"\} 1$/m);
  });
});

describe('a hub that never finishes an answer', () => {
  it.each([
    ['trickles the body one byte a second', trickle(), 'timeout', 'the body stalled'],
    ['stalls after the headers', stallAfterHeaders, 'timeout', 'the body stalled: 0 bytes'],
    ['sends a gzip bomb', gzipBomb(64 << 20), 'too_large', 'exceeds the 4194304 byte limit'],
  ])(
    'that %s is given up on within the deadline; the reason is logged and the outputs kept',
    async (_, respond, reason, why) => {
      h.hub.publish([domain('a.test')]);
      const agent = await h.open({ timeout: 1, 'max-bytes': 4 << 20 });
      expect(await agent.syncOnce()).toBe(true);
      h.hub.publish([domain('a.test'), domain('b.test')]);
      h.hub.overrides.push({ match: (p) => p.startsWith('/v1/feeds/dns/'), respond });
      const before = await h.disk();

      const started = performance.now();
      expect(await agent.poll(0)).toMatchObject({ status: 'failed', reason });
      // A deadline of 1 s; the bound leaves room for a loaded machine, far below a hang.
      expect(performance.now() - started).toBeLessThan(4000);
      expect(h.events('fetch_failed').at(-1)).toMatchObject({ level: 'warn', reason });
      expect(String(h.events('fetch_failed').at(-1)?.message)).toContain(why);
      expect(await h.disk()).toEqual(before);
      expect(agent.version).toBe(1);
    },
  );
});

describe('refusing bad artifacts', () => {
  const flip = (bytes: Uint8Array, offset: number) => {
    const copy = bytes.slice();
    copy[offset] = (copy[offset] as number) ^ 1;
    return copy;
  };
  const cases: Array<[string, string, (h: Harness) => Promise<Uint8Array>]> = [
    [
      'a tampered payload',
      'payload_digest',
      async (h) => {
        const artifact = await h.hub.snapshot(3);
        return flip(artifact, payloadOffsetOf(artifact));
      },
    ],
    ['a tampered manifest', 'bad_signature', async (h) => flip(await h.hub.snapshot(3), 50)],
    ['a replayed older snapshot', 'rollback', (h) => h.hub.snapshot(1)],
    ['a delta from another version', 'gap', (h) => h.hub.delta(1, 3)],
    [
      'an expired snapshot',
      'expired',
      (h) => h.hub.snapshot(3, { createdAt: Date.now() - 2 * DAY, expiresAt: Date.now() - DAY }),
    ],
    ["another feed's snapshot", 'wrong_feed', (h) => h.hub.snapshot(3, { feed: 'url' })],
    [
      'a snapshot signed by an unknown key',
      'untrusted_key',
      async (h) => h.hub.snapshot(3, {}, await generateSigningKey()),
    ],
    [
      'a snapshot lying about its entries',
      'entry_count_mismatch',
      (h) => h.hub.snapshot(3, { entryCount: 5 }),
    ],
    ['garbage', 'malformed', async () => new TextEncoder().encode('<html>maintenance</html>')],
  ];

  it.each(cases)('%s changes nothing on disk; the rule is logged and counted', async (_, rule, craft) => {
    h.hub.publish([domain('a.test')]);
    h.hub.publish([domain('a.test'), domain('b.test')]);
    const agent = await h.open();
    expect(await agent.syncOnce()).toBe(true);
    h.hub.publish([domain('c.test')]);
    const bytes = await craft(h);
    h.hub.overrides.push({ match: (p) => p.startsWith('/v1/feeds/dns/'), answer: () => artifact(bytes) });
    h.hub.overrides.push({ match: (p) => p.startsWith('/v1/feeds/keys/'), answer: () => ({ status: 404 }) });
    const before = await h.disk();

    // The delta request and, after a refused delta, the snapshot request both get the crafted bytes.
    expect(await agent.poll(0)).toEqual({ status: 'rejected', code: rule });
    expect(await agent.poll(0)).toEqual({ status: 'rejected', code: rule });
    expect(await h.disk()).toEqual(before);
    expect(agent.version).toBe(2);
    expect(h.events('rejected')[0]).toMatchObject({ level: 'warn', rule, applied: 2 });
    expect(agent.metrics.render()).toContain(`takedown_sync_rejections_total{reason="${rule}"} 2`);
    expect(h.hub.reports).toHaveLength(1);
  });
});

describe('a hub signing with a key the agent does not trust', () => {
  it('downloads the refused snapshot once, then backs off on 304s instead of downloading it again', async () => {
    h.hub.publish([domain('a.test')]);
    h.hub.key = await generateSigningKey();
    const agent = await h.open({ 'max-backoff': 1 });
    const before = await h.disk();
    expect(await agent.poll(0)).toMatchObject({ status: 'rejected', code: 'untrusted_key' });
    expect(await agent.poll(0)).toMatchObject({ status: 'rejected', code: 'untrusted_key' });
    expect(h.hub.snapshotsSent).toBe(1);
    expect(h.events('snapshot_unchanged')[0]).toMatchObject({ level: 'warn', rule: 'untrusted_key' });

    const stop = new AbortController();
    const running = agent.run(stop.signal);
    try {
      await until(() => h.events('retry_scheduled').length >= 3, 'three scheduled retries');
    } finally {
      stop.abort();
      await running;
    }
    expect(h.hub.snapshotsSent).toBe(1);
    expect(h.events('retry_scheduled')[0]).toMatchObject({
      reason: 'untrusted_key',
      delayMs: expect.any(Number),
    });
    expect(await h.disk()).toEqual(before);

    // A new snapshot (another version) is another set of bytes: it is fetched.
    h.hub.publish([domain('b.test')]);
    expect(await agent.poll(0)).toMatchObject({ status: 'rejected', code: 'untrusted_key' });
    expect(h.hub.snapshotsSent).toBe(2);
  });
});

describe('outputs and reloads', () => {
  it('reports a failed reload, keeps the previous file, and retries until it succeeds', async () => {
    const flag = join(h.dir, 'reload-ok');
    await writeFile(flag, '');
    h.hub.publish([domain('old.test')]);
    const agent = await h.open({
      output: [`rpz=${h.rpzPath}`],
      reload: [`test -f '${flag}'`],
      'max-backoff': 1,
    });
    expect(await agent.syncOnce()).toBe(true);
    const v1 = await readFile(h.rpzPath, 'utf8');

    await rm(flag);
    h.hub.publish([domain('new.test')]);
    const stop = new AbortController();
    const running = agent.run(stop.signal);
    try {
      await until(() => h.events('output_failed').length > 0, 'the failed reload');
      expect(h.events('output_failed')[0]).toMatchObject({
        code: 'reload_failed',
        version: 2,
        format: 'rpz',
      });
      expect(await readFile(`${h.rpzPath}.prev`, 'utf8')).toBe(v1);
      await until(() => h.hub.reports.some((r) => r.version === 2), 'the report of version 2');
      expect(h.hub.reports.find((r) => r.version === 2)?.outputs).toEqual([
        { format: 'rpz', path: h.rpzPath, ok: false },
      ]);

      await writeFile(flag, '');
      await until(() => h.events('output_applied').some((e) => e.version === 2), 'the retried reload');
      await until(
        () => h.hub.reports.some((r) => r.version === 2 && (r.outputs[0] as { ok: boolean }).ok),
        'the report of the reloaded output',
      );
      expect(await readFile(`${h.rpzPath}.prev`, 'utf8').catch(() => 'gone')).toBe('gone');
      expect(blocks(await readFile(h.rpzPath, 'utf8'), 'new.test')).toBe(true);
      expect(agent.metrics.render()).toMatch(
        /takedown_sync_output_failures_total\{code="reload_failed",format="rpz"\} [1-9]/,
      );
    } finally {
      stop.abort();
      await running;
    }
  });
});

describe('the daemon', () => {
  it('long-polls: a version published while it waits is applied', async () => {
    h.hub.publish([domain('a.test')]);
    const agent = await h.open({ wait: 20 });
    const stop = new AbortController();
    const running = agent.run(stop.signal);
    try {
      await until(() => h.hub.requests.includes('/v1/feeds/dns/delta?since=1&wait=20'), 'the long-poll');
      h.hub.publish([domain('a.test'), domain('b.test')]);
      await until(async () => blocks(await readFile(h.rpzPath, 'utf8'), 'b.test'), 'b.test in the RPZ file');
    } finally {
      stop.abort();
      await running;
    }
  });

  it('keeps its outputs while the hub is unreachable, backs off, and catches up when it returns', async () => {
    h.hub.publish([domain('a.test')]);
    const agent = await h.open({ wait: 1, interval: 0, 'max-backoff': 2 });
    expect(await agent.syncOnce()).toBe(true);
    const port = h.hub.port;
    const before = await readFile(h.rpzPath, 'utf8');
    await h.hub.close();
    h.hub.publish([domain('a.test'), domain('b.test')]);
    const stop = new AbortController();
    const running = agent.run(stop.signal);
    try {
      await until(() => h.events('fetch_failed').length >= 3, 'three failed polls');
      expect(await readFile(h.rpzPath, 'utf8')).toBe(before);
      expect(agent.metrics.render()).toMatch(/takedown_sync_fetch_failures_total\{reason="network"\} [3-9]/);
      await h.hub.listen(port);
      await until(async () => blocks(await readFile(h.rpzPath, 'utf8'), 'b.test'), 'the catch-up');
      await until(() => h.hub.reports.some((r) => r.version === 2), 'the report');
    } finally {
      stop.abort();
      await running;
    }
  });
});

describe('key rotation', () => {
  it('walks the key sets it missed when the latest one is signed by a key it does not trust yet', async () => {
    const second = await generateSigningKey();
    const third = await generateSigningKey();
    const set = (version: number, keys: (typeof second.publicKey)[], by: typeof second) =>
      encodeKeySet({ keys, version, createdAt: Date.now(), expiresAt: Date.now() + DAY }, by);
    const first = await set(1, [h.hub.key.publicKey, second.publicKey], h.hub.key);
    const latest = await set(2, [second.publicKey, third.publicKey], second);
    h.hub.overrides.push(
      { match: (p) => p === '/v1/keys/keyset?version=1', answer: () => artifact(first) },
      { match: (p) => p === '/v1/keys/keyset', answer: () => artifact(latest) },
    );
    h.hub.publish([domain('a.test')]);
    const signedByThird = await h.hub.snapshot(1, {}, third);
    h.hub.overrides.push({
      match: (p) => p.endsWith('/snapshot'),
      answer: () => artifact(signedByThird),
      once: true,
    });

    expect(await (await h.open()).syncOnce()).toBe(true);
    expect(h.events('keys_followed').map((e) => e.version)).toEqual([1, 2]);
    expect(h.hub.requests).toContain('/v1/keys/keyset?version=1');
  });

  it('follows a key set signed by the pinned key, then trusts the new key across restarts', async () => {
    const next = await generateSigningKey();
    const keySet = await encodeKeySet(
      {
        keys: [h.hub.key.publicKey, next.publicKey],
        version: 1,
        createdAt: Date.now(),
        expiresAt: Date.now() + DAY,
      },
      h.hub.key,
    );
    h.hub.overrides.push({ match: (p) => p === '/v1/keys/keyset', answer: () => artifact(keySet) });
    h.hub.publish([domain('a.test')]);
    const signedByNext = await h.hub.snapshot(1, {}, next);
    h.hub.overrides.push({
      match: (p) => p.endsWith('/snapshot'),
      answer: () => artifact(signedByNext),
      once: true,
    });

    expect(await (await h.open()).syncOnce()).toBe(true);
    expect(h.events('keys_followed')[0]).toMatchObject({ version: 1 });
    const state = JSON.parse(await readFile(join(h.dir, 'state', 'state.json'), 'utf8'));
    expect(state.trust.keys).toContain(exportPublicKey(next.publicKey));

    h.hub.publish([domain('a.test'), domain('b.test')]);
    const deltaByNext = await h.hub.delta(1, 2);
    // Re-signing the delta with the next key: the hub switched keys after the rotation.
    const { decodeArtifact, encodeArtifact } = await import('../../../src/core/artifact.ts');
    const decoded = decodeArtifact(deltaByNext);
    if (!decoded.ok) throw new Error('delta does not decode');
    const resigned = await encodeArtifact(decoded.value.manifest, decoded.value.payload, next);
    h.hub.overrides.push({
      match: (p) => p.includes('/delta'),
      answer: () => artifact(resigned),
      once: true,
    });
    const restarted = await h.open();
    expect(await restarted.poll(0)).toMatchObject({ status: 'applied', version: 2 });
  });
});
