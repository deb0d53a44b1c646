import { describe, expect, it } from 'vitest';
import { dnsNameEnd, domainName, isDnsName, traceComment, urlTarget } from '../../src/render/names.ts';
import { domain, domainEntries } from './fixtures.ts';

describe('isDnsName', () => {
  it('accepts every name of a real blocklist sample', () => {
    const rejected = domainEntries().filter((entry) => domainName(entry.expression) === undefined);
    expect(rejected).toEqual([]);
  });

  it('accepts punycode, underscores and a 63-byte label', () => {
    expect(isDnsName('xn--80ak6aa92e.com')).toBe(true);
    expect(isDnsName('_dmarc.example.com')).toBe(true);
    expect(isDnsName(`${'a'.repeat(63)}.com`)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['empty label', 'a..com'],
    ['leading dot', '.a.com'],
    ['trailing dot', 'a.com.'],
    ['upper case', 'Evil.com'],
    ['space', 'evil .com'],
    ['quote', 'evil".com'],
    ['newline', 'evil\n.com'],
    ['wildcard', '*.evil.com'],
    ['64-byte label', `${'a'.repeat(64)}.com`],
    ['254 bytes', `${'a.'.repeat(126)}ab`],
    ['IPv4 literal', '192.0.2.1'],
    ['numeric last label', 'evil.123'],
    ['non-ASCII', 'bücher.de'],
  ])('rejects %s', (_, name) => {
    expect(isDnsName(name)).toBe(false);
  });
});

describe('domainName', () => {
  it('takes the host of a host/ expression only', () => {
    expect(domainName('evil.example/')).toBe('evil.example');
    expect(domainName('evil.example')).toBeUndefined();
    expect(domainName('evil.example/login')).toBeUndefined();
    expect(domainName('/')).toBeUndefined();
  });
});

describe('urlTarget', () => {
  it('splits host and path with its query', () => {
    expect(urlTarget('evil.example/a/b.php?x=1&y=%20')).toEqual({
      host: 'evil.example',
      path: '/a/b.php?x=1&y=%20',
    });
    expect(urlTarget('192.0.2.1/x')).toEqual({ host: '192.0.2.1', path: '/x' });
    expect(urlTarget('[2001:db8::1]/x')).toEqual({ host: '[2001:db8::1]', path: '/x' });
  });

  it.each([
    ['no path', 'evil.example'],
    ['no host', '/x'],
    ['space in path', 'evil.example/a b'],
    ['newline in path', 'evil.example/a\nb'],
    ['non-ASCII path', 'evil.example/ä'],
    ['bad host', 'ev"il.example/x'],
  ])('rejects %s', (_, expression) => {
    expect(urlTarget(expression)).toBeUndefined();
  });
});

describe('traceComment', () => {
  it('is the category, then the reference when one is known', () => {
    expect(traceComment(domain('a.example'), undefined)).toBe('phishing');
    expect(traceComment(domain('a.example'), () => undefined)).toBe('phishing');
    expect(traceComment(domain('a.example'), () => '5167/BTTTT-CATTT')).toBe('phishing 5167/BTTTT-CATTT');
  });

  it('keeps a hostile reference on one line', () => {
    const comment = traceComment(domain('a.example'), () => '1/X\n$INCLUDE /etc/passwd\r\u2028x');
    expect(comment).toBe('phishing 1/X $INCLUDE /etc/passwd x');
  });
});

describe('dnsNameEnd', () => {
  it('agrees with isDnsName on the real sample and on edge cases, read inside a larger buffer', () => {
    const names = [
      ...domainEntries().map((e) => e.expression.slice(0, -1)),
      '',
      '.',
      'a',
      'a.',
      '.a',
      'a..b',
      '1.2.3.4',
      'a.123',
      'a.1b',
      '_srv.example',
      '-x.example',
      'UPPER.example',
      'a b.example',
      `${'a'.repeat(63)}.example`,
      `${'a'.repeat(64)}.example`,
      `example.${'a'.repeat(63)}`,
      `example.${'a'.repeat(64)}`,
      'b1.2a',
      'x-1.b-2_',
      `${'a.'.repeat(126)}b`,
      `${'a.'.repeat(126)}bc`,
      'caf\u00e9.example',
    ];
    const encoder = new TextEncoder();
    for (const name of names) {
      // Bounded by the end of the name, and stopping by itself at the `/` of a snapshot line.
      const bytes = encoder.encode(`\t${name}/\tdomain`);
      const slash = bytes.length - 8;
      expect(dnsNameEnd(bytes, 1, slash) === slash, name).toBe(isDnsName(name));
      expect(dnsNameEnd(bytes, 1, bytes.length) === slash, name).toBe(isDnsName(name));
    }
  });
});
