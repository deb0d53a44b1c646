import { randomBytes } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { createTransferAcl, TransferAclError } from '../../src/dns/transfer-acl.ts';
import { resolveTsigKeys, signRequest, TSIG_ERROR, TsigKeyError, verifyRequest } from '../../src/dns/tsig.ts';
import { encodeTsigRecord, locateTsig } from '../../src/dns/tsig-record.ts';
import { canonicalWireName, printableName, readName, WireFormatError } from '../../src/dns/wire-name.ts';

const secret = randomBytes(32).toString('base64');
const keys = resolveTsigKeys([{ name: 'Xfr-Key.', algorithm: 'hmac-sha256', secret }]);
const key = keys.get('xfr-key');
const query = dnsPacket.encode({ id: 77, type: 'query', questions: [{ name: 'rpz.takedown', type: 'SOA' }] });

describe('TSIG', () => {
  it('round-trips a TSIG record through its wire form', () => {
    const record = {
      keyName: 'k.example',
      algorithm: 'hmac-sha256',
      timeSigned: 2 ** 40 + 5,
      fudge: 300,
      mac: new Uint8Array([1, 2, 3]),
      originalId: 65_535,
      error: TSIG_ERROR.BADTIME,
      otherData: new Uint8Array([0, 0, 0, 0, 0, 9]),
    };
    const message = Buffer.concat([
      Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
      encodeTsigRecord(record),
    ]);
    expect(locateTsig(message)).toEqual({ offset: 12, record });
  });

  it('verifies its own signature and reports BADKEY, BADSIG and BADTIME', () => {
    if (!key) throw new Error('key not resolved');
    const now = Math.floor(Date.now() / 1000);
    const signed = signRequest(query, key, now).message;
    const located = locateTsig(signed);
    if (!located) throw new Error('no TSIG found');
    expect(verifyRequest(signed, located, keys, now)).toMatchObject({ ok: true });
    expect(verifyRequest(signed, located, keys, now + 301)).toMatchObject({
      ok: false,
      error: TSIG_ERROR.BADTIME,
    });
    expect(verifyRequest(signed, located, new Map(), now)).toMatchObject({
      ok: false,
      error: TSIG_ERROR.BADKEY,
    });
    const tampered = Buffer.from(signed);
    tampered[13] = 0x52; // the question's first letter upper-cased after signing
    expect(verifyRequest(tampered, located, keys, now)).toMatchObject({
      ok: false,
      error: TSIG_ERROR.BADSIG,
    });
    const otherKey = resolveTsigKeys([
      { name: 'xfr-key', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') },
    ]);
    expect(verifyRequest(signed, located, otherKey, now)).toMatchObject({
      ok: false,
      error: TSIG_ERROR.BADSIG,
    });
  });

  it('refuses a TSIG that is not the last record', () => {
    if (!key) throw new Error('key not resolved');
    const signed = signRequest(query, key).message;
    const extra = dnsPacket
      .encode({ additionals: [{ name: 'x', type: 'A', ttl: 0, data: '192.0.2.1' }] })
      .subarray(12);
    const misplaced = Buffer.concat([signed, extra]);
    misplaced.writeUInt16BE(2, 10);
    expect(() => locateTsig(misplaced)).toThrow(/not the last additional record/);
  });

  it('validates keys at configuration time', () => {
    const good = { name: 'k', algorithm: 'hmac-sha256' as const, secret };
    expect(() => resolveTsigKeys([{ ...good, secret: 'c2hvcnQ=' }])).toThrow(TsigKeyError);
    expect(() => resolveTsigKeys([{ ...good, secret: 'not base64!' }])).toThrow(/not base64/);
    expect(() => resolveTsigKeys([{ ...good, algorithm: 'hmac-md5' as 'hmac-sha256' }])).toThrow(/hmac-md5/);
    expect(() => resolveTsigKeys([good, good])).toThrow(/twice/);
  });
});

describe('wire names', () => {
  it('reads compressed names in lower case and rejects loops and overruns', () => {
    const message = Buffer.from([0, 3, 0x41, 0x62, 0x43, 0, 1, 0x58, 0xc0, 1]);
    expect(readName(message, 1)).toEqual({ name: 'abc', end: 6 });
    expect(readName(message, 6)).toEqual({ name: 'x.abc', end: 10 });
    expect(() => readName(Buffer.from([0xc0, 0]), 0)).toThrow(WireFormatError);
    expect(() => readName(Buffer.from([5, 0x61]), 0)).toThrow(/runs past/);
    expect(() => canonicalWireName(`${'a'.repeat(64)}.test`)).toThrow(/oversized label/);
    expect(printableName('a\u0000b\\')).toBe('a\\000b\\092');
  });
});

describe('the transfer ACL', () => {
  it('defaults to loopback without keys, to nobody unsigned with keys, and honours CIDR blocks', () => {
    const loopback = createTransferAcl(undefined, false);
    expect([
      loopback('127.0.0.1', false),
      loopback('::1', false),
      loopback('::ffff:127.0.0.2', false),
      loopback('192.0.2.1', false),
    ]).toEqual([true, true, true, false]);
    const keyed = createTransferAcl(undefined, true);
    expect([keyed('127.0.0.1', false), keyed('192.0.2.1', true)]).toEqual([false, true]);
    const listed = createTransferAcl(['192.0.2.0/24', '2001:db8::1'], true);
    expect([
      listed('192.0.2.200', false),
      listed('192.0.3.1', false),
      listed('2001:db8::1', false),
      listed('nonsense', false),
    ]).toEqual([true, false, true, false]);
    expect(() => createTransferAcl(['192.0.2.0/33'], false)).toThrow(TransferAclError);
    expect(() => createTransferAcl(['example.com'], false)).toThrow(/"example.com" is not an IP address/);
  });
});
