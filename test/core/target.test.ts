import { describe, expect, it } from 'vitest';
import { parseTarget, type Target } from '../../src/core/target.ts';

function target(input: string): Target {
  const r = parseTarget(input);
  if (!r.ok) throw new Error(`${input}: ${r.error.code} ${r.error.message}`);
  return r.value;
}

const error = (input: string) => {
  const r = parseTarget(input);
  return r.ok ? null : r.error;
};

describe('parseTarget: domains', () => {
  it('takes a bare host name as a domain entry', () => {
    expect(target('EVIL.example.')).toEqual({
      input: 'EVIL.example.',
      kind: 'domain',
      expression: 'evil.example/',
      host: 'evil.example',
      canonicalUrl: 'http://evil.example/',
      isIp: false,
      publicSuffix: 'example',
      registrableDomain: 'evil.example',
    });
    expect(target('bücher.de').expression).toBe('xn--bcher-kva.de/');
    expect(target('shop.example.co.uk').registrableDomain).toBe('example.co.uk');
  });

  it('takes a URL whose canonical form is the bare host as a domain entry', () => {
    for (const input of [
      'https://evil.example/',
      'http://EVIL.example',
      'evil.example/',
      'http://evil.example/?',
      'http://u:p@evil.example:8080/#x',
      'https://evil.example/a/..',
    ]) {
      const t = target(input);
      expect([t.kind, t.expression]).toEqual(['domain', 'evil.example/']);
    }
    expect(target('https://evil.example/').canonicalUrl).toBe('https://evil.example/');
  });

  it('keeps IP literals as entries and says so', () => {
    const t = target('http://0x7f.0.0.1/');
    expect([t.kind, t.expression, t.isIp, t.publicSuffix, t.registrableDomain]).toEqual([
      'domain',
      '127.0.0.1/',
      true,
      null,
      null,
    ]);
    expect(target('[2001:db8::1]').expression).toBe('[2001:db8::1]/');
  });

  it('reports bare public suffixes through publicSuffix/registrableDomain', () => {
    expect([target('github.io').publicSuffix, target('github.io').registrableDomain]).toEqual([
      'github.io',
      null,
    ]);
    expect(target('co.uk').registrableDomain).toBeNull();
  });
});

describe('parseTarget: URLs', () => {
  it('takes a URL with a path or a query as a url entry', () => {
    const t = target('HTTP://Evil.Example.com/Login.php?X=1#frag');
    expect([t.kind, t.expression, t.canonicalUrl]).toEqual([
      'url',
      'evil.example.com/Login.php?X=1',
      'http://evil.example.com/Login.php?X=1',
    ]);
    expect(target('evil.example/phish/').expression).toBe('evil.example/phish/');
    expect(target('evil.example/?id=7').expression).toBe('evil.example/?id=7');
    expect(target('http://evil.example/%2e%2e/a%20b').expression).toBe('evil.example/a%20b');
  });

  it('drops an empty query, which lookups never carry', () => {
    expect(target('http://evil.example/a?').expression).toBe('evil.example/a');
  });
});

describe('parseTarget: errors', () => {
  it('names the problem with a stable code', () => {
    expect(error('')?.code).toBe('empty');
    expect(error('  \t')?.code).toBe('empty');
    expect(error(`http://evil.example/${'a'.repeat(2048)}`)?.code).toBe('too_long');
    expect(error('ftp://evil.example/')?.code).toBe('unsupported_scheme');
    expect(error('mailto:abuse@evil.example')?.code).toBe('unsupported_scheme');
    expect(error('http://')?.code).toBe('invalid_host');
    expect(error('/just/a/path')?.code).toBe('invalid_host');
    expect(error('evil.example.123')?.code).toBe('invalid_host');
    expect(error(`${'a'.repeat(64)}.example`)?.code).toBe('label_too_long');
    expect(error(`${'abcdefghi.'.repeat(25)}example`)?.code).toBe('name_too_long');
    expect(error('http://ev!l.example/')?.code).toBe('invalid_character');
    expect(error('http://host%23.example/')?.code).toBe('invalid_character');
  });

  it('puts the offending part in the message', () => {
    expect(error('http://ev!l.example/')?.message).toContain("'!'");
    expect(error('ev il.example')?.message).toContain("' '");
    expect(error('ftp://evil.example/')?.message).toContain('ftp');
    expect(error(`${'a'.repeat(64)}.example`)?.message).toContain('a'.repeat(64));
  });

  it('never throws on hostile input', () => {
    for (const input of [
      '\u0000',
      '\ud800',
      'http://[',
      'http://%',
      '%%%',
      '::::',
      '@@@',
      'http://a@',
      '?',
      '#',
      'http://.../',
    ]) {
      expect(() => parseTarget(input)).not.toThrow();
    }
  });
});
