import { createHmac, randomBytes } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, missingTools, udpExchange } from '../../bench/lib/resolvers/unbound.ts';
import { createRpzPrimary, type RpzPrimary } from '../../src/dns/primary.ts';
import type { DnsLogEvent } from '../../src/dns/responder.ts';
import { resolveTsigKeys, signRequest, TSIG_ERROR } from '../../src/dns/tsig.ts';
import { locateTsig, tsigVariables } from '../../src/dns/tsig-record.ts';
import { dig, domainEntry, recordSet } from './dns-tools.ts';

const KEY = {
  name: 'xfr-key',
  algorithm: 'hmac-sha256' as const,
  secret: randomBytes(32).toString('base64'),
};
const entries = [domainEntry('evil.test')];

async function startPrimary(options: { tsigKeys?: (typeof KEY)[]; allowTransfer?: string[] }) {
  const events: DnsLogEvent[] = [];
  const primary = createRpzPrimary({
    entries: () => entries,
    version: () => 9,
    log: (event) => events.push(event),
    ...options,
  });
  const { port } = await primary.listen('127.0.0.1', await freePort());
  return { primary, port, events };
}

function ixfrQuery(serial: number): Buffer {
  return dnsPacket.encode({
    id: 1,
    type: 'query',
    questions: [{ name: 'rpz.takedown', type: 'IXFR', class: 'IN' }],
    authorities: [{ name: 'rpz.takedown', type: 'SOA', ttl: 0, data: { mname: 'a', rname: 'b', serial } }],
  });
}

describe.skipIf(missingTools(['dig']))('transfer access control', () => {
  let withKey: Awaited<ReturnType<typeof startPrimary>>;
  let plain: Awaited<ReturnType<typeof startPrimary>>;
  beforeAll(async () => {
    withKey = await startPrimary({ tsigKeys: [KEY], allowTransfer: ['127.0.0.2'] });
    plain = await startPrimary({ allowTransfer: ['127.0.0.3/32', '10.0.0.0/8'] });
  });
  afterAll(async () => {
    await Promise.all([withKey?.primary.close(), plain?.primary.close()]);
  });
  const axfr = (primary: { port: number }, ...args: string[]) =>
    dig('@127.0.0.1', '-p', String(primary.port), ...args, 'rpz.takedown', 'AXFR');

  it('transfers to a client with the right TSIG key, and signs the answer', async () => {
    const output = await axfr(withKey, '-y', `hmac-sha256:${KEY.name}:${KEY.secret}`);
    expect(recordSet(output)).toContain('evil.test.rpz.takedown. 60 IN CNAME .');
    expect(output).toMatch(/xfr-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ NOERROR 0/);
  });

  it('answers NOTAUTH/BADSIG to a wrong secret and NOTAUTH/BADKEY to an unknown key, and logs both', async () => {
    const wrongSecret = await axfr(
      withKey,
      '-y',
      `hmac-sha256:${KEY.name}:${randomBytes(32).toString('base64')}`,
    );
    expect(wrongSecret).toMatch(/TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADSIG/);
    expect(wrongSecret).toMatch(/Transfer failed/);
    const unknownKey = await axfr(withKey, '-y', `hmac-sha256:other-key:${KEY.secret}`);
    expect(unknownKey).toMatch(/TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY/);
    expect(recordSet(unknownKey).filter((line) => line.includes('CNAME'))).toEqual([]);
    const logged = withKey.events.filter((event) => event.event === 'tsig').map((event) => event.message);
    expect(logged).toEqual([
      'TSIG failure: bad MAC with key xfr-key',
      'TSIG failure: unknown key other-key (hmac-sha256)',
    ]);
  });

  it('refuses an unsigned transfer from outside the allow-list and logs it; allows one from inside', async () => {
    const unsigned = await axfr(withKey);
    expect(unsigned).toMatch(/Transfer failed/);
    const ixfrOverUdp = dnsPacket.decode(await udpExchange(withKey.port, ixfrQuery(1)));
    expect((ixfrOverUdp.flags ?? 0) & 0xf).toBe(5); // REFUSED
    expect(
      withKey.events.filter((event) => event.event === 'refused').map((event) => event.client?.split('#')[0]),
    ).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(recordSet(await axfr(withKey, '-b', '127.0.0.2'))).toContain(
      'evil.test.rpz.takedown. 60 IN CNAME .',
    );
  });

  it('with an IP allow-list and no keys, refuses every other address, loopback included', async () => {
    expect(await axfr(plain, '-b', '127.0.0.2')).toMatch(/Transfer failed/);
    expect(recordSet(await axfr(plain, '-b', '127.0.0.3'))).toContain(
      'evil.test.rpz.takedown. 60 IN CNAME .',
    );
    expect(plain.events.map((event) => `${event.event} ${event.client?.split('#')[0]}`)).toEqual(
      expect.arrayContaining(['refused 127.0.0.2']),
    );
  });

  it('answers a request signed too long ago with NOTAUTH/BADTIME, signed over the request MAC, with its clock', async () => {
    const [key] = resolveTsigKeys([KEY]).values();
    if (!key) throw new Error('no key');
    const query = dnsPacket.encode({
      id: 4242,
      type: 'query',
      questions: [{ name: 'rpz.takedown', type: 'SOA', class: 'IN' }],
    });
    const signedAt = Math.floor(Date.now() / 1000) - 3_600;
    const request = signRequest(query, key, signedAt);
    const reply = await udpExchange(withKey.port, request.message);
    expect(reply.readUInt16BE(2) & 0xf).toBe(9); // NOTAUTH
    const tsig = locateTsig(reply);
    expect(tsig?.record.error).toBe(TSIG_ERROR.BADTIME);
    expect(tsig?.record.timeSigned).toBe(signedAt);
    const serverTime = Number(Buffer.from(tsig?.record.otherData ?? []).readUIntBE(0, 6));
    expect(Math.abs(serverTime - Date.now() / 1000)).toBeLessThan(60);
    // Independent check of the MAC: request MAC, the unsigned reply, the TSIG variables (RFC 8945 4.3).
    const unsigned = Buffer.from(reply.subarray(0, tsig?.offset));
    unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(request.mac.length);
    const record = tsig?.record;
    if (!record) throw new Error('no TSIG');
    const expected = createHmac('sha256', Buffer.from(KEY.secret, 'base64'))
      .update(prefix)
      .update(request.mac)
      .update(unsigned)
      .update(tsigVariables(record))
      .digest();
    expect(Buffer.from(record.mac).equals(expected)).toBe(true);
  });
});

describe('the loopback default', () => {
  let primary: RpzPrimary | undefined;
  afterAll(async () => {
    await primary?.close();
  });

  it('allows transfers from loopback when neither keys nor an allow-list are configured', async () => {
    const started = await startPrimary({});
    primary = started.primary;
    const reply = dnsPacket.decode(await udpExchange(started.port, ixfrQuery(1)));
    expect((reply.flags ?? 0) & 0xf).toBe(0);
    const soa = reply.answers?.[0];
    expect(soa?.type === 'SOA' && soa.data.serial).toBe(9 * 64);
  });
});
