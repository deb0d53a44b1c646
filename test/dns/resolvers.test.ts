import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningNamed, startNamed } from '../../bench/lib/resolvers/bind.ts';
import {
  authZoneSnippet,
  freePort,
  INTERNET_ZONE,
  missingTools,
  type RunningUnbound,
  startUnbound,
} from '../../bench/lib/resolvers/unbound.ts';
import type { Change, FeedEntry } from '../../src/core/types.ts';
import { createRpzPrimary, type RpzPrimary } from '../../src/dns/primary.ts';
import type { DnsLogEvent } from '../../src/dns/responder.ts';
import { dig, domainEntry, journalPrint, poll, recordSet, sampleEntries, sortEntries } from './dns-tools.ts';
import {
  BIND_RPZ_OPTIONS,
  bindKeyClause,
  bindRpzSecondary,
  newTransferKey,
  notifyingPrimary,
  notifyUntil,
} from './rpz-fixture.ts';

// The primary feeding real resolvers: BIND as a TSIG-signed secondary that applies the zone as its
// response policy, and Unbound pulling it unsigned from an allowed address (Unbound 1.17 cannot
// sign transfers). `test.` stands for the internet: every name in it resolves to 192.0.2.99.

/** How fast a published change must be enforced: NOTIFY makes it immediate (the SOA refresh is 60 s). */
const ENFORCED_WITHIN_MS = 2_000;
const KEY = newTransferKey();

type Ask = (name: string) => Promise<string>;
const answerOf = (query: (name: string) => Promise<{ status: string; answers: { data: string }[] }>): Ask => {
  return async (name) => {
    const response = await query(name).catch(() => ({ status: 'TIMEOUT', answers: [] }));
    return [response.status, ...response.answers.map((answer) => answer.data)].join(' ');
  };
};

describe.skipIf(
  missingTools(['named', 'named-checkconf', 'named-journalprint', 'unbound', 'unbound-checkconf']),
)('resolvers pulling the zone', () => {
  let dir: string;
  let primary: RpzPrimary;
  let named: RunningNamed;
  let unbound: RunningUnbound;
  const events: DnsLogEvent[] = [];
  const state = { entries: [] as FeedEntry[], version: 1 };

  const publish = (version: number, changes: Change[]) => {
    for (const { op, ...entry } of changes) {
      state.entries =
        op === 'add'
          ? sortEntries([...state.entries, entry])
          : state.entries.filter((e) => e.expression !== entry.expression);
    }
    state.version = version;
    primary.publish(version, changes);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rpz-resolvers-'));
    await writeFile(join(dir, 'test.zone'), INTERNET_ZONE);
    state.entries = sortEntries([...sampleEntries(), domainEntry('evil.test')]);
    const [primaryPort, namedPort, unboundNotifyPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    primary = await notifyingPrimary(state, KEY, primaryPort, [namedPort, unboundNotifyPort], events);
    named = await startNamed({
      port: namedPort,
      debugLevel: 1,
      options: BIND_RPZ_OPTIONS,
      clauses: bindRpzSecondary(KEY, primaryPort),
      files: { 'test.zone': INTERNET_ZONE },
    });
    unbound = await startUnbound([
      `server:\n  module-config: "respip iterator"\n  local-zone: "test." nodefault\n  interface: 127.0.0.1@${unboundNotifyPort}\n`,
      authZoneSnippet('test.', join(dir, 'test.zone')),
      `rpz:\n  name: "rpz.takedown."\n  primary: 127.0.0.1@${primaryPort}\n`,
    ]);
  });
  afterAll(async () => {
    await Promise.all([named?.stop(), unbound?.stop(), primary?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  const resolvers = (): Array<[string, Ask]> => [
    ['BIND', answerOf((name) => named.query(name))],
    ['Unbound', answerOf((name) => unbound.query(name))],
  ];

  it('both load the zone: a listed name and its sub-domains are NXDOMAIN, others resolve', async () => {
    for (const [resolver, ask] of resolvers()) {
      expect([resolver, await poll(() => ask('evil.test'), 'NXDOMAIN', 30_000)]).toEqual([
        resolver,
        'NXDOMAIN',
      ]);
      expect([resolver, await ask('www.evil.test')]).toEqual([resolver, 'NXDOMAIN']);
      expect([resolver, await ask('new.test')]).toEqual([resolver, 'NOERROR 192.0.2.99']);
    }
  });

  it('both block a newly published name within 2 s and unblock it within 2 s of its removal, by IXFR', async () => {
    publish(2, [{ ...domainEntry('new.test'), op: 'add' }]);
    for (const [resolver, ask] of resolvers()) {
      expect([resolver, await poll(() => ask('new.test'), 'NXDOMAIN', ENFORCED_WITHIN_MS)]).toEqual([
        resolver,
        'NXDOMAIN',
      ]);
      expect([resolver, await ask('sub.new.test')]).toEqual([resolver, 'NXDOMAIN']);
    }
    publish(3, [{ ...domainEntry('new.test'), op: 'remove' }]);
    for (const [resolver, ask] of resolvers()) {
      const expected = 'NOERROR 192.0.2.99';
      expect([resolver, await poll(() => ask('new.test'), expected, ENFORCED_WITHIN_MS)]).toEqual([
        resolver,
        expected,
      ]);
      expect([resolver, await ask('sub.new.test')]).toEqual([resolver, expected]);
      expect([resolver, await ask('evil.test')]).toEqual([resolver, 'NXDOMAIN']);
    }
    await named.waitForLog(/transferred serial 192/);
    const requested = named
      .log()
      .split('\n')
      .flatMap((line) => /rpz\.takedown\/IN: .*requesting (AXFR|IXFR)/.exec(line)?.[1] ?? []);
    expect(requested).toEqual(['AXFR', 'IXFR', 'IXFR']);
    // BIND journals what an incremental transfer changed (an AXFR-style answer would leave no journal).
    const journal = await journalPrint(join(named.dir, 'rpz.takedown.db.jnl'));
    expect(journal.filter((line) => line.includes('new.test.rpz.takedown.'))).toEqual([
      'add new.test.rpz.takedown. 60 IN CNAME .',
      'add *.new.test.rpz.takedown. 60 IN CNAME .',
      'del new.test.rpz.takedown. 60 IN CNAME .',
      'del *.new.test.rpz.takedown. 60 IN CNAME .',
    ]);
    const served = events
      .filter((event) => event.event === 'transfer')
      .map((event) => `${event.client?.split('#')[0]} ${event.message.split(':')[0]}`);
    expect(served.slice(2).sort()).toEqual([
      '127.0.0.1 IXFR serial 128 -> 192',
      '127.0.0.1 IXFR serial 128 -> 192, TSIG xfr-key',
      '127.0.0.1 IXFR serial 64 -> 128',
      '127.0.0.1 IXFR serial 64 -> 128, TSIG xfr-key',
    ]);
  });
});

describe.skipIf(missingTools(['named', 'named-checkconf', 'dig']))(
  'a secondary older than the journal',
  () => {
    let primary: RpzPrimary;
    let named: RunningNamed;
    const events: DnsLogEvent[] = [];
    const state = { entries: sortEntries([domainEntry('a.test'), domainEntry('b.test')]), version: 1 };

    beforeAll(async () => {
      primary = createRpzPrimary({
        entries: () => state.entries,
        version: () => state.version,
        tsigKeys: [KEY],
        journalVersions: 1,
        log: (event) => events.push(event),
      });
      const { port } = await primary.listen('127.0.0.1', await freePort());
      named = await startNamed({
        debugLevel: 1,
        options: '  recursion no; notify no;',
        clauses: `${bindKeyClause(KEY)}
server 127.0.0.1 { keys { "${KEY.name}"; }; };
zone "rpz.takedown" { type secondary; primaries { 127.0.0.1 port ${port}; }; file "rpz.takedown.db"; allow-transfer { 127.0.0.1; }; };`,
      });
      await named.waitForLog(/transferred serial 64/);
    });
    afterAll(async () => {
      await Promise.all([named?.stop(), primary?.close()]);
    });

    it('gets the whole zone in an AXFR-style IXFR answer and ends with the same zone', async () => {
      state.entries = sortEntries([domainEntry('b.test'), domainEntry('c.test', 'redirect')]);
      state.version = 2;
      primary.publish(2, [
        { ...domainEntry('a.test'), op: 'remove' },
        { ...domainEntry('c.test', 'redirect'), op: 'add' },
      ]);
      state.entries = sortEntries([...state.entries, domainEntry('d.test')]);
      state.version = 3;
      primary.publish(3, [{ ...domainEntry('d.test'), op: 'add' }]);

      // The journal keeps one version (2 -> 3): a NOTIFY now makes BIND ask for IXFR from version 1's serial.
      await notifyUntil(named.port, 192, () => named.waitForLog(/transferred serial 192/));

      expect(named.log()).toMatch(/rpz\.takedown\/IN: requesting IXFR/);
      const served = events
        .filter((event) => event.event === 'transfer')
        .map((event) => event.message.split(':')[0]);
      expect(served).toEqual([
        'AXFR serial 64, TSIG xfr-key',
        'IXFR serial 64 -> 192 (AXFR-style, older than the journal), TSIG xfr-key',
      ]);
      const fromSecondary = recordSet(
        await dig('@127.0.0.1', '-p', String(named.port), 'rpz.takedown', 'AXFR'),
      );
      const signed = `hmac-sha256:${KEY.name}:${KEY.secret}`;
      const fromPrimary = recordSet(
        await dig('@127.0.0.1', '-p', String(primary.address?.port), '-y', signed, 'rpz.takedown', 'AXFR'),
      );
      expect(fromSecondary).toEqual(fromPrimary);
      expect(fromPrimary.filter((line) => line.startsWith('d.test') || line.startsWith('a.test'))).toEqual([
        'd.test.rpz.takedown. 60 IN CNAME .',
      ]);
    });
  },
);
