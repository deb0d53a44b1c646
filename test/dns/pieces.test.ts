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
import { DEFAULT_PIECE_RECORDS } from '../../src/dns/journal.ts';
import type { RpzPrimary } from '../../src/dns/primary.ts';
import type { DnsLogEvent } from '../../src/dns/responder.ts';
import { serialNewer, zoneSerial } from '../../src/render/serial.ts';
import { dig, domainEntry, poll, recordSet, sampleEntries, sortEntries } from './dns-tools.ts';
import {
  BIND_RPZ_OPTIONS,
  bindRpzSecondary,
  newTransferKey,
  notifyingPrimary,
  notifyUntil,
} from './rpz-fixture.ts';

// A 10 000-name version reaches real resolvers as several IXFR pieces, each under its own SOA serial:
// Unbound and BIND (both NOTIFYed) follow the pieces to exactly the published policy; a BIND secondary
// the primary does not NOTIFY, several versions behind, gets the whole difference in one IXFR.

const KEY = newTransferKey();
const LARGE = 10_000;
const largeNames = Array.from({ length: LARGE }, (_, i) => `n${i}.bulk.test`);

type Query = (name: string, type?: 'A' | 'TXT') => Promise<{ status: string; answers: { data: string }[] }>;

/** The names of `names` whose answer at `query` is not `status`, asked 100 at a time. */
async function notAnswering(query: Query, names: readonly string[], status: string): Promise<string[]> {
  const wrong: string[] = [];
  for (let i = 0; i < names.length; i += 100) {
    const slice = names.slice(i, i + 100);
    const answers = await Promise.all(
      slice.map((name) =>
        query(name).then(
          (r) => r.status,
          () => 'TIMEOUT',
        ),
      ),
    );
    slice.forEach((name, j) => {
      if (answers[j] !== status) wrong.push(name);
    });
  }
  return wrong;
}

/** The canary a resolver answers for `version`'s name: the TXT string of the version it enforces. */
const canary = (query: Query, version: number) =>
  query(`v${version}.canary.takedown`, 'TXT').then(
    // The answer's data is the RDATA in hex: one length byte, then the string.
    (r) => `${r.status} ${r.answers.map((a) => Buffer.from(a.data, 'hex').subarray(1).toString()).join(' ')}`,
    () => 'TIMEOUT',
  );

/** `serial a -> b` of each IXFR in `events` whose message matches `who`. */
function ixfrChain(
  events: readonly DnsLogEvent[],
  who: (message: string) => boolean,
): Array<[number, number]> {
  return events
    .filter((e) => e.event === 'transfer' && e.message.startsWith('IXFR') && who(e.message))
    .map((e) => {
      const match = /serial (\d+) -> (\d+)/.exec(e.message);
      return [Number(match?.[1]), Number(match?.[2])] as [number, number];
    });
}

describe.skipIf(missingTools(['named', 'named-checkconf', 'unbound', 'unbound-checkconf', 'dig']))(
  'a large version in IXFR pieces',
  () => {
    let dir: string;
    let primary: RpzPrimary;
    let named: RunningNamed;
    let late: RunningNamed;
    let unbound: RunningUnbound;
    const events: DnsLogEvent[] = [];
    const state = { entries: [] as FeedEntry[], version: 1 };
    const publish = (version: number, changes: Change[]) => {
      const byExpression = new Map(state.entries.map((e) => [e.expression, e]));
      for (const { op, ...entry } of changes) {
        if (op === 'add') byExpression.set(entry.expression, entry);
        else byExpression.delete(entry.expression);
      }
      state.entries = sortEntries([...byExpression.values()]);
      state.version = version;
      primary.publish(version, changes);
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rpz-pieces-'));
      await writeFile(join(dir, 'test.zone'), INTERNET_ZONE);
      state.entries = sortEntries([...sampleEntries(), domainEntry('evil.test')]);
      const [primaryPort, namedPort, unboundPort] = [await freePort(), await freePort(), await freePort()];
      primary = await notifyingPrimary(state, KEY, primaryPort, [namedPort, unboundPort], events);
      const secondary = (extra: string) =>
        bindRpzSecondary(KEY, primaryPort, ` allow-transfer { 127.0.0.1; };${extra}`);
      // `late` transfers from 127.0.0.2, an address the primary does not NOTIFY.
      [named, late, unbound] = await Promise.all([
        startNamed({
          port: namedPort,
          options: BIND_RPZ_OPTIONS,
          clauses: secondary(''),
          files: { 'test.zone': INTERNET_ZONE },
        }),
        startNamed({
          options: BIND_RPZ_OPTIONS,
          clauses: secondary(' transfer-source 127.0.0.2;'),
          files: { 'test.zone': INTERNET_ZONE },
        }),
        startUnbound([
          `server:\n  module-config: "respip iterator"\n  local-zone: "test." nodefault\n  interface: 127.0.0.1@${unboundPort}\n`,
          authZoneSnippet('test.', join(dir, 'test.zone')),
          `rpz:\n  name: "rpz.takedown."\n  primary: 127.0.0.1@${primaryPort}\n  allow-notify: 127.0.0.1\n`,
        ]),
      ]);
      for (const resolver of [named, late, unbound]) {
        await poll(() => canary(resolver.query, 1), 'NOERROR takedown-canary v=1', 30_000);
      }
    }, 60_000);
    afterAll(async () => {
      await Promise.all([named?.stop(), late?.stop(), unbound?.stop(), primary?.close()]);
      await rm(dir, { recursive: true, force: true });
    });

    it('Unbound and BIND follow a 10 000-name version and its removal, piece by piece, to exactly that policy', async () => {
      const pieces = Math.ceil((2 * LARGE) / DEFAULT_PIECE_RECORDS);
      publish(
        2,
        largeNames.map((name) => ({ ...domainEntry(name), op: 'add' })),
      );
      for (const resolver of [unbound, named]) {
        expect(await poll(() => canary(resolver.query, 2), 'NOERROR takedown-canary v=2', 60_000)).toBe(
          'NOERROR takedown-canary v=2',
        );
        expect(await notAnswering(resolver.query, largeNames, 'NXDOMAIN')).toEqual([]);
        expect(await notAnswering(resolver.query, ['evil.test', 'www.evil.test'], 'NXDOMAIN')).toEqual([]);
        expect(await notAnswering(resolver.query, ['other.test', 'bulk.test'], 'NOERROR')).toEqual([]);
      }
      // Half the names go again, and one comes: deletions come in pieces too.
      publish(3, [
        ...largeNames.slice(0, LARGE / 2).map((name) => ({ ...domainEntry(name), op: 'remove' as const })),
        { ...domainEntry('late.test'), op: 'add' },
      ]);
      for (const resolver of [unbound, named]) {
        await poll(() => canary(resolver.query, 3), 'NOERROR takedown-canary v=3', 60_000);
        expect(await notAnswering(resolver.query, largeNames.slice(0, LARGE / 2), 'NOERROR')).toEqual([]);
        expect(await notAnswering(resolver.query, largeNames.slice(LARGE / 2), 'NXDOMAIN')).toEqual([]);
        expect(
          await notAnswering(resolver.query, ['late.test', 'www.late.test', 'evil.test'], 'NXDOMAIN'),
        ).toEqual([]);
      }
      // Each resolver's IXFRs form one chain of growing serials from version 1 to version 3, in pieces.
      const chains = {
        Unbound: ixfrChain(events, (m) => !m.includes('TSIG')),
        BIND: ixfrChain(events, (m) => m.includes('TSIG')),
      };
      for (const [resolver, chain] of Object.entries(chains)) {
        const serials = [chain[0]?.[0], ...chain.map(([, to]) => to)];
        expect([resolver, serials[0], serials.at(-1)]).toEqual([resolver, zoneSerial(1), zoneSerial(3)]);
        expect([resolver, chain.every(([from], i) => i === 0 || from === chain[i - 1]?.[1])]).toEqual([
          resolver,
          true,
        ]);
        expect([resolver, chain.every(([from, to]) => serialNewer(to, from))]).toEqual([resolver, true]);
        expect([resolver, chain.length >= pieces + 1]).toEqual([resolver, true]);
      }
      const bulk = events.filter((e) => /serial 64 -> 65 \(a piece; the zone is at 128\)/.test(e.message));
      expect(bulk.length).toBeGreaterThan(0);
    }, 120_000);

    it('a secondary the primary does not NOTIFY, two versions behind, gets the whole difference in one IXFR', async () => {
      const before = events.length;
      await notifyUntil(late.port, zoneSerial(3), () =>
        poll(() => canary(late.query, 3), 'NOERROR takedown-canary v=3', 30_000),
      );
      const served = events.slice(before).filter((e) => e.event === 'transfer');
      expect(served.map((e) => `${e.client?.split('#')[0]} ${e.message.split(':')[0]}`)).toEqual([
        `127.0.0.2 IXFR serial ${zoneSerial(1)} -> ${zoneSerial(3)}, TSIG xfr-key`,
      ]);
      const signed = `hmac-sha256:${KEY.name}:${KEY.secret}`;
      const fromPrimary = recordSet(
        await dig('@127.0.0.1', '-p', String(primary.address?.port), '-y', signed, 'rpz.takedown', 'AXFR'),
      );
      for (const secondary of [late, named]) {
        const held = recordSet(await dig('@127.0.0.1', '-p', String(secondary.port), 'rpz.takedown', 'AXFR'));
        expect(held.length).toBe(fromPrimary.length);
        expect(held).toEqual(fromPrimary);
      }
    }, 60_000);
  },
);
