import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostSuffixes, lookupExpressions, pathVariants } from '../../src/core/expressions.ts';
import { type CanonicalUrl, canonicalizeUrl } from '../../src/core/url.ts';

const fixture = readFileSync(
  new URL('../fixtures/canonicalization/safebrowsing-expressions.txt', import.meta.url),
  'utf8',
);

function canonical(input: string): CanonicalUrl {
  const r = canonicalizeUrl(input);
  if (!r.ok) throw new Error(`${input}: ${r.error.message}`);
  return r.value;
}

interface Example {
  section: string;
  url: string;
  expected: string[];
  mustFail: boolean;
}

/** `URL: x` blocks of the fixture, with the section letter they appear under. */
function examples(): Example[] {
  const out: Example[] = [];
  let section = '';
  let current: Example | null = null;
  for (const line of fixture.split('\n')) {
    const header = /^# === Section ([A-Z])/.exec(line);
    if (header) section = header[1] as string;
    if (line.startsWith('URL: ')) {
      current = { section, url: line.slice(5), expected: [], mustFail: false };
      out.push(current);
    } else if (current && line.trim() === '') {
      current = null;
    } else if (current && line.startsWith('(error')) {
      current.mustFail = true;
    } else if (current && !line.startsWith('(')) {
      current.expected.push(line.trim());
    }
  }
  return out;
}

function listLines(prefix: string): { url: string; expected: string[] }[] {
  return fixture
    .split('\n')
    .filter((l) => l.startsWith(`${prefix} `))
    .map((l) => {
      const [url, list] = l.slice(prefix.length + 1).split(' => ') as [string, string];
      return { url, expected: list.split(' | ') };
    });
}

const hostOf = (expression: string) => expression.slice(0, expression.indexOf('/'));
const labelCount = (host: string) => host.split('.').length;
/** Root expressions of suffixes beyond Safe Browsing's five-label window: ours, for domain entries at any depth. */
const isDeepRoot = (e: string, exactHost: string) =>
  e.endsWith('/') && e.indexOf('/') === e.length - 1 && hostOf(e) !== exactHost && labelCount(hostOf(e)) > 5;

describe('lookupExpressions on the Safe Browsing doc examples (section A)', () => {
  const cases = examples().filter((e) => e.section === 'A');
  it('has the three doc examples', () => expect(cases).toHaveLength(3));
  for (const { url, expected } of cases) {
    it(url, () => {
      const got = lookupExpressions(canonical(url));
      const host = canonical(url).host;
      // Safe Browsing's own set, plus `suffix/` for the suffixes beyond its window (domain entries at any depth).
      expect(got.filter((e) => !isDeepRoot(e, host)).sort()).toEqual([...expected].sort());
      expect(got[0]?.startsWith(`${host}/`)).toBe(true);
    });
  }
});

describe('lookupExpressions against the Go client patterns (section B)', () => {
  // The Go client emits up to 7 host components; the doc rule stops at the last five labels, and ours also
  // stops at the registrable domain. Ours adds `suffix/` for every deeper suffix (domain entries match at any
  // depth); the rest is a subset, and only >5-label suffixes are missing from it.
  for (const { url, expected, mustFail } of examples().filter((e) => e.section === 'B')) {
    it(url, () => {
      const r = canonicalizeUrl(url);
      if (mustFail) {
        expect(r.ok).toBe(false);
        return;
      }
      const exact = canonical(url).host;
      const got = lookupExpressions(canonical(url)).filter((e) => !isDeepRoot(e, exact));
      for (const e of got) expect(expected).toContain(e);
      const missing = expected.filter((e) => !got.includes(e));
      for (const e of missing) {
        expect(hostOf(e)).not.toBe(exact);
        expect(labelCount(hostOf(e))).toBeGreaterThan(5);
      }
    });
  }
});

describe('host suffixes (sections C and E)', () => {
  it('www.google.com and a.b.c.com as in the Go client', () => {
    expect(hostSuffixes('www.google.com', false)).toEqual(['www.google.com', 'google.com']);
    expect(hostSuffixes('a.b.c.com', false)).toEqual(['a.b.c.com', 'b.c.com', 'c.com']);
    expect(hostSuffixes('a.b', false)).toEqual(['a.b']);
  });

  it('stops at the registrable domain where the Go client goes on to public suffixes', () => {
    // Go: ... | f.kita.tokyo.jp | kita.tokyo.jp | tokyo.jp. `kita.tokyo.jp` and `tokyo.jp` are public suffixes,
    // so a lookup never reaches them and a bare public suffix can never block a whole tree of sites.
    const line = listLines('HOSTS').find((l) => l.url.includes('kita.tokyo.jp'));
    const got = hostSuffixes(canonical(line?.url as string).host, false);
    expect(got).toEqual([
      'a.b.c.d.e.f.kita.tokyo.jp',
      'b.c.d.e.f.kita.tokyo.jp',
      'c.d.e.f.kita.tokyo.jp',
      'd.e.f.kita.tokyo.jp',
      'e.f.kita.tokyo.jp',
      'f.kita.tokyo.jp',
    ]);
    for (const h of got.filter((h) => h === got[0] || labelCount(h) <= 5))
      expect(line?.expected).toContain(h);
  });

  it('matches every HOSTS line of the fixture within the five-label window, but the deviations above and below', () => {
    for (const { url, expected } of listLines('HOSTS')) {
      if (url.includes('kita.tokyo.jp')) continue;
      const c = canonical(url);
      // [::192.9.5.5] is written [::c009:505] by the WHATWG IPv6 serializer that hub and consumers share.
      const want = url.includes('[::192.9.5.5]') ? ['[::c009:505]'] : expected;
      const got = hostSuffixes(c.host, c.isIp);
      expect(got.filter((h, i) => i === 0 || labelCount(h) <= 5)).toEqual(want);
    }
  });

  it('never emits a bare public suffix nor shortens below the registrable domain', () => {
    expect(hostSuffixes('a.b.example.co.uk', false)).toEqual([
      'a.b.example.co.uk',
      'b.example.co.uk',
      'example.co.uk',
    ]);
    expect(hostSuffixes('x.y.github.io', false)).toEqual(['x.y.github.io', 'y.github.io']);
    expect(hostSuffixes('co.uk', false)).toEqual(['co.uk']);
    expect(hostSuffixes('1.2.3.4', true)).toEqual(['1.2.3.4']);
  });
});

describe('path variants (sections D and E)', () => {
  for (const { url, expected } of listLines('PATHS')) {
    it(url, () => {
      const c = canonical(url);
      expect([...pathVariants(c.path, c.query)].sort()).toEqual([...expected].sort());
    });
  }

  it('orders path with query, path, then prefixes from the root, at most four prefixes', () => {
    expect(pathVariants('/1/2/3/4/5/6.html', 'a=1')).toEqual([
      '/1/2/3/4/5/6.html?a=1',
      '/1/2/3/4/5/6.html',
      '/',
      '/1/',
      '/1/2/',
      '/1/2/3/',
    ]);
    expect(pathVariants('/', null)).toEqual(['/']);
    expect(pathVariants('/a/', '')).toEqual(['/a/', '/']);
  });
});

describe('the matching model', () => {
  const blocks = (entry: string, url: string) => lookupExpressions(canonical(url)).includes(entry);

  it('a domain entry matches the domain and every sub-domain, on any path', () => {
    expect(blocks('example.com/', 'https://example.com/')).toBe(true);
    expect(blocks('example.com/', 'http://a.b.c.d.e.f.example.com/x/y?z=1')).toBe(true);
    expect(blocks('example.com/', 'http://notexample.com/')).toBe(false);
    expect(blocks('example.com/', 'http://example.com.evil.net/')).toBe(false);
  });

  it('a path-prefix entry matches below it and an exact entry only itself', () => {
    expect(blocks('example.com/phish/', 'http://www.example.com/phish/login.php?u=1')).toBe(true);
    expect(blocks('example.com/phish/', 'http://example.com/phishing')).toBe(false);
    expect(blocks('example.com/login.php?x=1', 'http://example.com/login.php?x=1#top')).toBe(true);
    expect(blocks('example.com/login.php?x=1', 'http://example.com/login.php?x=2')).toBe(false);
    expect(blocks('example.com/login.php', 'http://example.com/login.php?x=2')).toBe(true);
  });

  it('emits each expression once, exact host first, at most 25 path expressions', () => {
    const got = lookupExpressions(canonical('http://a.b.c.d.e.f.g/1/2/3/4/5.html?q'));
    expect(new Set(got).size).toBe(got.length);
    expect(got[0]).toBe('a.b.c.d.e.f.g/1/2/3/4/5.html?q');
    expect(got.filter((e) => !e.endsWith('/') || e.indexOf('/') !== e.length - 1).length).toBeLessThanOrEqual(
      25,
    );
  });

  it('a domain entry matches sub-domains at any depth, a url entry keeps the five-label window', () => {
    expect(blocks('c.d.e.f.example.com/', 'https://x.c.d.e.f.example.com/')).toBe(true);
    expect(blocks('c.d.e.f.example.com/', 'https://a.b.c.d.e.f.example.com/p?q=1')).toBe(true);
    const deep = `${'l.'.repeat(120)}example.com`;
    expect(blocks('l.l.example.com/', `http://${deep}/`)).toBe(true);
    expect(lookupExpressions(canonical(`http://${deep}/`))).toHaveLength(121);
    expect(blocks('b.c.d.e.f.example.com/', 'https://x.c.d.e.f.example.com/')).toBe(false);
    expect(blocks('d.e.f.example.com/phish/', 'http://x.d.e.f.example.com/phish/a')).toBe(true);
    expect(blocks('c.d.e.f.example.com/phish/', 'http://x.c.d.e.f.example.com/phish/a')).toBe(false);
  });
});
