import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, missingTools } from '../../bench/lib/resolvers/unbound.ts';
import { renderToFile } from '../../src/agent/render-to-file.ts';
import type { Change, FeedEntry } from '../../src/core/types.ts';
import { createRpzPrimary, type RpzPrimary } from '../../src/dns/primary.ts';
import type { DnsLogEvent } from '../../src/dns/responder.ts';
import { resolveTsigKeys, verifyRequest } from '../../src/dns/tsig.ts';
import { locateTsig } from '../../src/dns/tsig-record.ts';
import { renderers } from '../../src/render/index.ts';
import { resolveRenderOptions } from '../../src/render/options.ts';
import {
  compileZone,
  dig,
  digStatus,
  domainEntry,
  poll,
  recordSet,
  sampleEntries,
  sortEntries,
} from './dns-tools.ts';

const render = { walledGardenAddresses: ['192.0.2.1', '2001:db8::1'] };
const options = resolveRenderOptions(render);

function mixedEntries(): FeedEntry[] {
  return sortEntries([
    ...sampleEntries(),
    domainEntry('casino.test', 'redirect'),
    domainEntry('evil.test'),
    { expression: 'evil.test/phish/', kind: 'url', category: 'phishing', action: 'block' },
    { expression: '192.0.2.7/', kind: 'domain', category: 'botnet', action: 'block' },
  ]);
}

/** A primary over a mutable entry list, listening on 127.0.0.1. */
async function start(
  entries: FeedEntry[],
  version: number,
  extra: Partial<Parameters<typeof createRpzPrimary>[0]> = {},
) {
  const state = { entries, version };
  const events: DnsLogEvent[] = [];
  const primary = createRpzPrimary({
    render,
    entries: () => state.entries,
    version: () => state.version,
    log: (event) => events.push(event),
    ...extra,
  });
  const { port } = await primary.listen('127.0.0.1', await freePort());
  return { primary, port, state, events };
}

describe.skipIf(missingTools(['dig', 'named-compilezone']))('the RPZ primary, asked by dig', () => {
  let primary: RpzPrimary | undefined;
  afterEach(async () => {
    await primary?.close();
    primary = undefined;
  });

  it('serves by AXFR exactly the zone the RPZ file renderer writes for the same entries and version', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rpz-axfr-'));
    try {
      const entries = mixedEntries();
      const path = join(dir, 'rpz.zone');
      await renderToFile(path, 'rpz', entries, { version: 42, options, refs: () => '5167/BTTTT-CATTT' });
      const started = await start(entries, 42);
      primary = started.primary;
      const served = recordSet(await dig('@127.0.0.1', '-p', String(started.port), 'rpz.takedown', 'AXFR'));
      const rendered = recordSet(await compileZone('rpz.takedown', path));
      expect(renderers.rpz.render).toBeTypeOf('function');
      // SOA, NS, two canary records, two records per domain entry.
      expect(served.length).toBe(2 + 2 + 2 * 402 + 2);
      expect(served).toEqual(rendered);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers SOA, NS, policy names and names under a policy wildcard; NXDOMAIN, NODATA, REFUSED otherwise', async () => {
    const started = await start(mixedEntries(), 7);
    primary = started.primary;
    const ask = (name: string, type: string) =>
      dig('@127.0.0.1', '-p', String(started.port), '+norec', name, type);
    const soa = await ask('rpz.takedown', 'SOA');
    expect(digStatus(soa)).toBe('NOERROR');
    expect(soa).toMatch(/flags: qr aa;/);
    expect(recordSet(soa)).toEqual([
      'rpz.takedown. 60 IN SOA localhost. hostmaster.localhost. 448 60 60 604800 60',
    ]);
    expect(recordSet(await ask('rpz.takedown', 'NS'))).toEqual(['rpz.takedown. 60 IN NS localhost.']);
    expect(recordSet(await ask('evil.test.rpz.takedown', 'A'))).toEqual([
      'evil.test.rpz.takedown. 60 IN CNAME .',
    ]);
    expect(recordSet(await ask('a.b.evil.test.rpz.takedown', 'TXT'))).toEqual([
      'a.b.evil.test.rpz.takedown. 60 IN CNAME .',
    ]);
    expect(recordSet(await ask('www.casino.test.rpz.takedown', 'AAAA'))).toEqual([
      'www.casino.test.rpz.takedown. 60 IN AAAA 2001:db8::1',
    ]);
    const nodata = await ask('casino.test.rpz.takedown', 'MX');
    expect([digStatus(nodata), nodata.includes('ANSWER: 0')]).toEqual(['NOERROR', true]);
    expect(digStatus(await ask('not-listed.test.rpz.takedown', 'A'))).toBe('NXDOMAIN');
    expect(digStatus(await ask('example.com', 'A'))).toBe('REFUSED');
    const otherZone = await dig('@127.0.0.1', '-p', String(started.port), 'example.com', 'AXFR');
    expect(otherZone).toMatch(/Transfer failed|NOTAUTH/);
  });

  it('answers IXFR from its journal, condensed; a single SOA when current or over UDP', async () => {
    const entries = sortEntries([domainEntry('a.test'), domainEntry('b.test'), domainEntry('c.test')]);
    const started = await start(entries, 10);
    primary = started.primary;
    const steps: Array<[number, Change[]]> = [
      [
        11,
        [
          { ...domainEntry('d.test'), op: 'add' },
          { ...domainEntry('a.test'), op: 'remove' },
        ],
      ],
      [
        12,
        [
          { ...domainEntry('d.test'), op: 'remove' },
          { ...domainEntry('e.test', 'redirect'), op: 'add' },
        ],
      ],
      [13, [{ ...domainEntry('f.test'), op: 'add' }]],
    ];
    let current = entries;
    for (const [version, changes] of steps) {
      for (const change of changes) {
        const { op, ...entry } = change;
        current =
          op === 'add'
            ? sortEntries([...current, entry])
            : current.filter((e) => e.expression !== entry.expression);
      }
      started.state.entries = current;
      started.state.version = version;
      started.primary.publish(version, changes);
    }
    const port = String(started.port);
    const ixfr = await dig('@127.0.0.1', '-p', port, 'rpz.takedown', 'IXFR=640');
    const lines = ixfr.split('\n').filter((line) => line !== '' && !line.startsWith(';'));
    const shape = lines.map((line) => {
      const fields = line.split(/\s+/);
      return [...fields.slice(0, 4), ...(fields[3] === 'SOA' ? [fields[6]] : [])].join(' ');
    });
    expect(shape).toEqual([
      'rpz.takedown. 60 IN SOA 832',
      'rpz.takedown. 60 IN SOA 640',
      'a.test.rpz.takedown. 60 IN CNAME',
      '*.a.test.rpz.takedown. 60 IN CNAME',
      'v10.canary.takedown.rpz.takedown. 60 IN TXT',
      '*.canary.takedown.rpz.takedown. 60 IN TXT',
      'rpz.takedown. 60 IN SOA 832',
      'e.test.rpz.takedown. 60 IN A',
      'e.test.rpz.takedown. 60 IN AAAA',
      '*.e.test.rpz.takedown. 60 IN A',
      '*.e.test.rpz.takedown. 60 IN AAAA',
      'f.test.rpz.takedown. 60 IN CNAME',
      '*.f.test.rpz.takedown. 60 IN CNAME',
      'v13.canary.takedown.rpz.takedown. 60 IN TXT',
      '*.canary.takedown.rpz.takedown. 60 IN TXT',
      'rpz.takedown. 60 IN SOA 832',
    ]);
    const upToDate = recordSet(await dig('@127.0.0.1', '-p', port, 'rpz.takedown', 'IXFR=832'));
    expect(upToDate).toEqual([
      'rpz.takedown. 60 IN SOA localhost. hostmaster.localhost. 832 60 60 604800 60',
    ]);
    const overUdp = await dig('@127.0.0.1', '-p', port, '+notcp', 'rpz.takedown', 'IXFR=640');
    expect(recordSet(overUdp)).toEqual(upToDate);
    const later = await dig('@127.0.0.1', '-p', port, 'rpz.takedown', 'IXFR=768');
    expect(recordSet(later)).toEqual(
      [
        'rpz.takedown. 60 IN SOA localhost. hostmaster.localhost. 768 60 60 604800 60',
        'rpz.takedown. 60 IN SOA localhost. hostmaster.localhost. 832 60 60 604800 60',
        'f.test.rpz.takedown. 60 IN CNAME .',
        '*.f.test.rpz.takedown. 60 IN CNAME .',
        'v12.canary.takedown.rpz.takedown. 60 IN TXT "takedown-canary v=12"',
        'v13.canary.takedown.rpz.takedown. 60 IN TXT "takedown-canary v=13"',
        '*.canary.takedown.rpz.takedown. 60 IN TXT "takedown-canary v=12"',
        '*.canary.takedown.rpz.takedown. 60 IN TXT "takedown-canary v=13"',
      ].sort(),
    );
    expect(started.events.filter((e) => e.event === 'transfer').map((e) => e.message.split(':')[0])).toEqual([
      'IXFR serial 640 -> 832',
      'IXFR serial 768 -> 832',
    ]);
  });

  it('answers a NOTIFYed address in pieces of pieceRecords records, NOTIFYing it again; 0 or no NOTIFY: whole', async () => {
    const entries = sampleEntries();
    const adds = Array.from({ length: 10 }, (_, i) => domainEntry(`piece-${i}.test`));
    /** `settle`: what to wait for before the primary closes (its delayed NOTIFY of the next piece). */
    const ixfrFrom1 = async (
      extra: Partial<Parameters<typeof createRpzPrimary>[0]>,
      settle: () => Promise<unknown> = async () => {},
    ) => {
      const started = await start(entries, 1, extra);
      primary = started.primary;
      started.state.entries = sortEntries([...entries, ...adds]);
      started.state.version = 2;
      started.primary.publish(
        2,
        adds.map((entry) => ({ ...entry, op: 'add' as const })),
      );
      const answer = await dig('@127.0.0.1', '-p', String(started.port), 'rpz.takedown', 'IXFR=64');
      await settle();
      await primary.close();
      primary = undefined;
      const soas = recordSet(answer).filter((line) => /\sSOA\s/.test(line));
      return {
        soas: soas.map((line) => line.split(/\s+/)[6]),
        records: recordSet(answer).length,
        events: started.events,
      };
    };
    const secondary = createSocket('udp4');
    const notified: number[] = [];
    secondary.on('message', (message) => {
      const soa = dnsPacket.decode(message).answers?.[0];
      if (soa?.type === 'SOA') notified.push(soa.data.serial ?? -1);
    });
    await new Promise<void>((resolve) => secondary.bind(0, '127.0.0.1', resolve));
    const notifyHere = { notify: [{ host: '127.0.0.1', port: secondary.address().port }] };
    // 20 records in pieces of 8 (6, 7, 7): the first answer leads to serial 65, and a NOTIFY of 128 follows.
    const pieced = await ixfrFrom1({ ...notifyHere, pieceRecords: 8 }, () =>
      poll(async () => notified.length >= 2, true, 2_000),
    );
    expect(pieced.soas).toEqual(['64', '65']);
    expect(pieced.records).toBe(2 + 6);
    secondary.close();
    expect(notified.slice(0, 2)).toEqual([128, 128]);
    expect(pieced.events.map((e) => e.message.split(':')[0])).toContain(
      'IXFR serial 64 -> 65 (a piece; the zone is at 128)',
    );
    for (const extra of [{ ...notifyHere, pieceRecords: 0 }, { pieceRecords: 8 }]) {
      const whole = await ixfrFrom1(extra);
      expect(whole.soas).toEqual(['128', '64']);
      expect(whole.records).toBe(2 + 20 + 4);
    }
  });

  it('splits a large transfer into compressed messages of at most 16 KiB, each TSIG-signed and chained', async () => {
    const entries = sortEntries(
      Array.from({ length: 6000 }, (_, i) => domainEntry(`host-${i}.example-with-a-long-name.test`)),
    );
    const secret = Buffer.alloc(32, 7).toString('base64');
    const started = await start(entries, 3, {
      tsigKeys: [{ name: 'xfr-key', algorithm: 'hmac-sha256', secret }],
    });
    primary = started.primary;
    const output = await dig(
      '@127.0.0.1',
      '-p',
      String(started.port),
      '-y',
      `hmac-sha256:xfr-key:${secret}`,
      'rpz.takedown',
      'AXFR',
    );
    const size = /XFR size: (\d+) records \(messages (\d+), bytes (\d+)\)/.exec(output);
    expect(output).not.toMatch(/Transfer failed|verify failure|Couldn't verify/i);
    const [records, messages, bytes] = [Number(size?.[1]), Number(size?.[2]), Number(size?.[3])];
    expect(records).toBe(3 + 2 + 12_000); // SOA, NS, SOA, the canary's two records, the entries
    expect(messages).toBeGreaterThan(10);
    // 16 KiB, the reach of a compression pointer, plus the TSIG record; far less than uncompressed.
    expect(bytes / messages).toBeLessThanOrEqual(16_384 + 200);
    expect(bytes / records).toBeLessThan(30);
    expect(output.match(/\tTSIG\t/g)?.length).toBe(messages);
  });

  it('refuses to publish a version that does not follow the current one', async () => {
    const started = await start([], 5);
    primary = started.primary;
    expect(() => started.primary.publish(5, [])).toThrow(/does not follow/);
    expect(() => started.primary.publish(4, [])).toThrow(/does not follow/);
  });
});

const NOTIFY_KEY = {
  name: 'notify-key',
  algorithm: 'hmac-sha256' as const,
  secret: Buffer.alloc(32, 3).toString('base64'),
};

describe('NOTIFY', () => {
  let primary: RpzPrimary | undefined;
  const secondary = createSocket('udp4');
  let secondaryPort = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => secondary.bind(0, '127.0.0.1', () => resolve()));
    secondaryPort = secondary.address().port;
  });
  afterAll(async () => {
    await primary?.close();
    await new Promise<void>((resolve) => secondary.close(() => resolve()));
  });

  it('is resent until the secondary answers, with opcode NOTIFY, AA, the new SOA and a TSIG', async () => {
    const received: dnsPacket.DecodedPacket[] = [];
    const verified: boolean[] = [];
    const answered = new Promise<void>((resolve) => {
      secondary.on('message', (message, remote) => {
        const notify = dnsPacket.decode(message);
        received.push(notify);
        const tsig = locateTsig(message);
        verified.push(tsig !== undefined && verifyRequest(message, tsig, resolveTsigKeys([NOTIFY_KEY])).ok);
        if (received.length < 3) return; // the first two are "lost"
        const reply = Buffer.from(message);
        reply.writeUInt16BE(message.readUInt16BE(2) | 0x8000, 2);
        secondary.send(reply, remote.port, remote.address);
        setTimeout(resolve, 300);
      });
    });
    const events: DnsLogEvent[] = [];
    primary = createRpzPrimary({
      entries: () => [],
      version: () => 1,
      tsigKeys: [NOTIFY_KEY],
      notify: [{ host: '127.0.0.1', port: secondaryPort, key: NOTIFY_KEY.name }],
      notifyRetry: { tries: 5, intervalMs: 50 },
      log: (event) => events.push(event),
    });
    await primary.listen('127.0.0.1', await freePort());
    primary.publish(2, [{ ...domainEntry('new.test'), op: 'add' }]);
    await answered;
    expect(received).toHaveLength(3);
    for (const notify of received) {
      expect(((notify.flags ?? 0) >> 11) & 0xf).toBe(4);
      expect(notify.flag_aa).toBe(true);
      expect(notify.questions).toEqual([{ name: 'rpz.takedown', type: 'SOA', class: 'IN' }]);
      const soa = notify.answers?.[0];
      expect(soa?.type === 'SOA' && soa.data.serial).toBe(2 * 64);
    }
    expect(new Set(received.map((notify) => notify.id)).size).toBe(1);
    expect(verified).toEqual([true, true, true]);
    expect(events.map((event) => event.message)).toContain('NOTIFY answered with rcode 0');
  });
});
