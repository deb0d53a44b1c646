import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtectedDomains } from '../../src/registry/protected-domains.ts';
import { acceptTarget, isCanonicalHostName, screenTarget } from '../../src/registry/screen.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

/** acceptTarget must decide exactly as the full path (parseTarget, then the rails) does. */
function expectSameDecision(input: string, protectedDomains: ProtectedDomains): void {
  for (const overrides of [false, true]) {
    const s = screenTarget(input, protectedDomains);
    const a = acceptTarget(input, protectedDomains, overrides);
    if (s.ok && (s.rails.length === 0 || overrides)) {
      expect(a).toEqual({ expression: s.target.expression, rails: s.rails });
    } else {
      expect(a).toMatchObject({ target: input, status: 'rejected', code: s.ok ? s.rails[0] : s.error.code });
    }
  }
}

describe('acceptTarget', () => {
  const protectedDomains = ProtectedDomains.of(['gov', 'google.com']);

  it('decides as parseTarget and the rails do, on real block-list names and edge cases', () => {
    const names = [...fixture('dns/nrd-sample-400.txt'), ...fixture('filter/malware-domains.txt')];
    expect(names.length).toBeGreaterThan(1000);
    expect(names.filter(isCanonicalHostName).length).toBeGreaterThan(names.length * 0.9);
    const edges = ['co.uk', 'github.io', 'mail.google.com', 'gov', '203.0.113.9', 'http://203.0.113.9/x'];
    for (const input of [...names, ...edges, 'EVIL.example.', 'https://evil.example/a?b', 'bad host']) {
      expectSameDecision(input, protectedDomains);
    }
  });

  it('decides as parseTarget and the rails do, on generated host-like strings', () => {
    const label = fc.stringMatching(/^[a-z0-9_-]{0,64}$/);
    const hostish = fc.oneof(
      fc.array(label, { minLength: 1, maxLength: 6 }).map((ls) => ls.join('.')),
      fc.stringMatching(/^[a-zA-Z0-9._-]{0,20}$/),
      fc.constantFrom('0x7f.1', '1.2.3.4', 'a..b', '.a.b', 'a.b.', 'a.0x1f', 'a.1e', 'com', 'x.gov'),
      fc.constantFrom(`${'a'.repeat(63)}.com`, `${'a'.repeat(64)}.com`, `${'a.'.repeat(126)}com`),
    );
    fc.assert(
      fc.property(hostish, (s) => expectSameDecision(s, protectedDomains)),
      { numRuns: 3000 },
    );
  });

  it('takes the shortcut only for names canonicalization leaves alone', () => {
    expect(isCanonicalHostName('evil.example')).toBe(true);
    expect(isCanonicalHostName('a_b.example')).toBe(true);
    for (const s of [
      '',
      'EVIL.example',
      'evil.example.',
      'a..b',
      '1.2.3.4',
      'a.0x7f',
      'a.b/c',
      'bücher.de',
      `${'a'.repeat(250)}.com`,
    ]) {
      expect(isCanonicalHostName(s)).toBe(false);
    }
  });
});

describe('screenTarget', () => {
  const protectedDomains = ProtectedDomains.of(['gov', 'Google.com', 'bộ-y-tế.vn']);
  const rails = (input: string) => {
    const s = screenTarget(input, protectedDomains);
    return s.ok ? s.rails : s.error.code;
  };

  it('flags rails per kind of entry', () => {
    expect(rails('evil.example')).toEqual([]);
    expect(rails('co.uk')).toEqual(['public_suffix']);
    expect(rails('blogspot.com')).toEqual(['public_suffix']);
    expect(rails('https://co.uk/x')).toEqual([]);
    expect(rails('203.0.113.9')).toEqual(['ip_literal']);
    expect(rails('http://0xcb.0.113.9/')).toEqual(['ip_literal']);
    expect(rails('http://203.0.113.9/login')).toEqual([]);
    expect(rails('maps.google.com')).toEqual(['protected_domain']);
    expect(rails('https://docs.google.com/forms/x')).toEqual(['protected_domain']);
    expect(rails('notgoogle.com')).toEqual([]);
    expect(rails('gov')).toEqual(['public_suffix', 'protected_domain']);
    expect(rails('www.BỘ-Y-TẾ.vn')).toEqual(['protected_domain']);
    expect(rails('xn--b-y-t-s61b7g.vn')).toEqual(['protected_domain']);
    expect(rails('http://')).toEqual(expect.any(String));
  });
});

describe('ProtectedDomains', () => {
  it('parses one name per line with comments, canonicalizing each', () => {
    const list = ProtectedDomains.parse('# top\nGoogle.COM  # search\n\n  bücher.de\n');
    expect(list.size).toBe(2);
    expect(list.covering('www.google.com')).toBe('google.com');
    expect(list.covering('xn--bcher-kva.de')).toBe('xn--bcher-kva.de');
    expect(list.covering('evilgoogle.com')).toBeNull();
    expect(() => ProtectedDomains.parse('ok.example\nbad name\n', 'list.txt')).toThrow(
      /list\.txt line 2: 'bad name'/,
    );
  });

  it('ships a default list that parses', () => {
    const list = ProtectedDomains.fromFile();
    expect(list.size).toBeGreaterThan(20);
    expect(list.covering('www.gov.vn')).toBe('gov.vn');
  });
});
