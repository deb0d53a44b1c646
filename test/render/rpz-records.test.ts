import { describe, expect, it } from 'vitest';
import {
  RenderOptionsError,
  resolveRenderOptions,
  rpzApexRecords,
  rpzRecords,
} from '../../src/render/index.ts';
import { rpzSerial } from '../../src/render/serial.ts';
import { domain, url } from './fixtures.ts';

const defaults = resolveRenderOptions();
const ref = () => '5167/BTTTT-CATTT';

describe('rpzRecords', () => {
  it('blocks a domain and its sub-domains with CNAME . and a trace comment', () => {
    expect(rpzRecords(domain('evil.example'), defaults, ref)).toEqual([
      { name: 'evil.example', type: 'CNAME', data: '.', comment: 'phishing 5167/BTTTT-CATTT' },
      { name: '*.evil.example', type: 'CNAME', data: '.', comment: 'phishing 5167/BTTTT-CATTT' },
    ]);
  });

  it('redirects to the walled-garden host when one is configured', () => {
    const options = resolveRenderOptions({
      walledGardenHost: 'Blocked.ISP.example',
      walledGardenAddresses: ['192.0.2.1'],
    });
    const records = rpzRecords(domain('casino.example', 'redirect'), options);
    expect(records.map((r) => `${r.name} ${r.type} ${r.data}`)).toEqual([
      'casino.example CNAME blocked.isp.example.',
      '*.casino.example CNAME blocked.isp.example.',
    ]);
  });

  it('redirects to the walled-garden addresses without a host', () => {
    const options = resolveRenderOptions({ walledGardenAddresses: ['192.0.2.1', '2001:db8::1'] });
    const records = rpzRecords(domain('casino.example', 'redirect'), options);
    expect(records.map((r) => `${r.name} ${r.type} ${r.data}`)).toEqual([
      'casino.example A 192.0.2.1',
      'casino.example AAAA 2001:db8::1',
      '*.casino.example A 192.0.2.1',
      '*.casino.example AAAA 2001:db8::1',
    ]);
  });

  it('blocks a redirect entry when no walled garden is configured', () => {
    expect(rpzRecords(domain('casino.example', 'redirect'), defaults).map((r) => r.data)).toEqual(['.', '.']);
  });

  it('carries no url entry: DNS never blocks a host for one of its pages', () => {
    expect(rpzRecords(url('evil.example/login.php'), defaults)).toEqual([]);
  });

  it('drops the wildcard when it would not fit under the origin, and the entry when the name does not', () => {
    const zoneLength = defaults.zone.length; // 'rpz.takedown.' = 13
    const label = 'a'.repeat(63);
    const fitsExactly = `${label}.${label}.${label}.${'b'.repeat(253 - zoneLength - 3 * 64)}`;
    expect(fitsExactly.length + zoneLength).toBe(253);
    expect(rpzRecords(domain(fitsExactly), defaults).map((r) => r.name)).toEqual([fitsExactly]);
    expect(rpzRecords(domain(`c${fitsExactly}`), defaults)).toEqual([]);
  });

  it('refuses names that would read as RPZ IP or NS-name triggers, and malformed expressions', () => {
    expect(rpzRecords(domain('32.1.2.0.192.rpz-ip'), defaults)).toEqual([]);
    expect(rpzRecords(domain('ns.evil.rpz-nsdname'), defaults)).toEqual([]);
    expect(rpzRecords(domain('evil.example\n$INCLUDE /etc/passwd'), defaults)).toEqual([]);
  });
});

describe('rpzSerial', () => {
  it('is the registry version modulo 2^32 (RFC 1982)', () => {
    expect(rpzSerial(0)).toBe(0);
    expect(rpzSerial(4_294_967_295)).toBe(4_294_967_295);
    expect(rpzSerial(4_294_967_296)).toBe(0);
    expect(rpzSerial(4_294_967_301)).toBe(5);
    expect(rpzSerial(2n ** 40n + 7n)).toBe(7);
  });

  it('rejects a version that is not a non-negative integer', () => {
    expect(() => rpzSerial(-1)).toThrow(RangeError);
    expect(() => rpzSerial(1.5)).toThrow(/1.5/);
    expect(() => rpzSerial(-1n)).toThrow(RangeError);
  });
});

describe('rpzApexRecords', () => {
  it('puts the serial and the TTL in the SOA', () => {
    expect(rpzApexRecords(2 ** 32 + 42, resolveRenderOptions({ ttl: 30 }))).toEqual([
      { name: '@', type: 'SOA', data: 'localhost. hostmaster.localhost. 2688 60 60 604800 30' },
      { name: '@', type: 'NS', data: 'localhost.' },
    ]);
  });
});

describe('resolveRenderOptions', () => {
  it('fills the defaults and makes names absolute', () => {
    expect(resolveRenderOptions()).toEqual({
      zone: 'rpz.takedown.',
      ttl: 60,
      nameServer: 'localhost.',
      hostmaster: 'hostmaster.localhost.',
      walledGardenAddresses: [],
    });
    expect(resolveRenderOptions({ zone: 'RPZ.Example' }).zone).toBe('rpz.example.');
  });

  it.each([
    [{ zone: 'rpz takedown' }, /zone: "rpz takedown"/],
    [{ zone: 'x.\n$INCLUDE' }, /zone/],
    [{ walledGardenHost: 'a"b' }, /walledGardenHost/],
    [{ walledGardenAddresses: ['192.0.2.300'] }, /192\.0\.2\.300/],
    [{ ttl: -1 }, /ttl: -1/],
  ])('refuses %o', (partial, message) => {
    expect(() => resolveRenderOptions(partial)).toThrow(RenderOptionsError);
    expect(() => resolveRenderOptions(partial)).toThrow(message);
  });
});
