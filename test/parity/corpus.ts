/**
 * The enforcement parity corpus: seeded entries of every class the matching model distinguishes, and probe
 * URLs whose verdicts follow from how they were built. `http` is what every HTTP consumer (hub check, filter
 * feed, edge, url feed) must answer; `dns` what resolvers must answer (domain entries only: DNS never blocks a
 * host for one URL on it).
 */
import { domainToASCII } from 'node:url';

export interface ParityEntry {
  target: string;
  kind: 'domain' | 'url';
}

export interface ParityProbe {
  url: string;
  /** Blocked for HTTP consumers. */
  http: boolean;
  /** Blocked for DNS consumers (the probe's host is, or is below, a domain entry). */
  dns: boolean;
  /** Blocked because the exact host is a domain entry (what a hosts file can express). */
  exactHost: boolean;
  why: string;
}

export interface ParityCorpus {
  entries: ParityEntry[];
  probes: ParityProbe[];
}

/** mulberry32: a small seeded generator, so the corpus is the same on every run and every machine. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function parityCorpus(seed = 20261206): ParityCorpus {
  const random = seeded(seed);
  const word = (prefix: string) => `${prefix}${Math.floor(random() * 1e9).toString(36)}`;
  const entries: ParityEntry[] = [];
  const probes: ParityProbe[] = [];
  const probe = (url: string, verdict: Omit<ParityProbe, 'url'>) => probes.push({ url, ...verdict });
  const blockedName = (why: string, exactHost: boolean) => ({ http: true, dns: true, exactHost, why });
  const notBlocked = (why: string) => ({ http: false, dns: false, exactHost: false, why });
  const urlOnly = (why: string) => ({ http: true, dns: false, exactHost: false, why });

  /** A domain entry and its probes: itself, sub-domains at depths 1 to 6, a parent and a look-alike. */
  const domainWithProbes = (name: string, registrable: string, label: string) => {
    entries.push({ target: name, kind: 'domain' });
    probe(`http://${name}/`, blockedName(`${label}: the entry itself`, true));
    for (let depth = 1; depth <= 6; depth++) {
      const sub = Array.from({ length: depth }, (_, i) => word(`s${i}`)).join('.');
      probe(
        `https://${sub}.${name}/${word('p')}?q=${depth}`,
        blockedName(`${label}: sub-domain at depth ${depth}`, false),
      );
    }
    if (name !== registrable) {
      probe(`http://${name.slice(name.indexOf('.') + 1)}/`, notBlocked(`${label}: the parent of the entry`));
    }
    probe(`http://x${name}/`, notBlocked(`${label}: a look-alike that only shares the text`));
  };

  // Domains of 2 to 10 labels under .com.
  for (let labels = 2; labels <= 10; labels++) {
    for (let copy = 0; copy < 2; copy++) {
      const registrable = `${word('r')}.com`;
      const name = [...Array.from({ length: labels - 2 }, (_, i) => word(`l${i}`)), registrable].join('.');
      domainWithProbes(name, registrable, `${labels}-label domain`);
    }
  }
  // Multi-label public suffixes (ICANN and private): the registrable domain is one label more.
  for (const suffix of ['co.uk', 'com.vn', 'github.io', 'blogspot.com']) {
    const registrable = `${word('m')}.${suffix}`;
    domainWithProbes(registrable, registrable, `under ${suffix}`);
    const deepRegistrable = `${word('m')}.${suffix}`;
    domainWithProbes(`${word('a')}.${word('b')}.${deepRegistrable}`, deepRegistrable, `deep under ${suffix}`);
    probe(`http://${word('other')}.${suffix}/`, notBlocked(`another site under ${suffix}`));
  }
  // IDN: Vietnamese and Cyrillic names, listed in one form, probed in both.
  const idn = (unicode: string, label: string, listAs: 'unicode' | 'punycode') => {
    const ascii = domainToASCII(unicode);
    if (ascii === '') throw new Error(`not a valid IDN: ${unicode}`);
    entries.push({ target: listAs === 'unicode' ? unicode : ascii, kind: 'domain' });
    for (const form of [unicode, ascii]) {
      const spelled = form === unicode ? 'Unicode' : 'punycode';
      probe(`http://${form}/`, blockedName(`${label} listed as ${listAs}, probed in ${spelled}`, true));
      probe(`http://www.${form}/x`, blockedName(`${label} sub-domain, probed in ${spelled}`, false));
    }
  };
  const n = () => Math.floor(random() * 1e6);
  idn(`ngân-hàng-giả-${n()}.com.vn`, 'Vietnamese IDN', 'unicode');
  idn(`bộ-công-an-${n()}.vn`, 'Vietnamese IDN', 'punycode');
  idn(`банк-${n()}.рф`, 'Cyrillic IDN', 'unicode');
  idn(`почта-${n()}.ru`, 'Cyrillic IDN', 'punycode');

  // Spelling variants of probes: upper case, trailing dot, percent-encoded host and path.
  const spelled = `${word('v')}.${word('w')}.net`;
  entries.push({ target: `${spelled.toUpperCase()}.`, kind: 'domain' });
  probe(`HTTP://WWW.${spelled.toUpperCase()}./LOGIN`, blockedName('upper case and a trailing dot', false));
  probe(`http://${spelled}./`, blockedName('trailing dot on the exact name', true));
  probe(`http://%77%77%77.${spelled}/%70ath`, blockedName('percent-encoded host and path', false));
  probe(`http://${spelled.replace('.', '%2E')}/`, blockedName('percent-encoded dot', true));

  // url entries: an exact page, a page with its query, a directory prefix; probes on the same host.
  for (let i = 0; i < 4; i++) {
    const host = i === 3 ? `${word('c')}.${word('d')}.${word('e')}.${word('u')}.org` : `${word('u')}.org`;
    const deep = i === 3 ? ' (five-label host)' : '';
    const page = `/${word('dir')}/${word('page')}.php`;
    entries.push({ target: `http://${host}${page}`, kind: 'url' });
    probe(`http://${host}${page}`, urlOnly(`exact page${deep}`));
    probe(`https://${host}${page}#top`, urlOnly(`exact page, other scheme and a fragment${deep}`));
    probe(`http://${host}${page}?x=1`, urlOnly(`exact page with a query the entry did not name${deep}`));
    probe(`http://${host}${page.replace('.php', '2.php')}`, notBlocked(`another page on the host${deep}`));
    probe(`http://www.${host}${page}`, urlOnly(`exact page on a sub-domain${deep}`));
    probe(`http://${host}/`, notBlocked(`the host's root${deep}`));

    entries.push({ target: `http://${host}/login.php?id=${i}7`, kind: 'url' });
    probe(`http://${host}/login.php?id=${i}7`, urlOnly(`page with its query${deep}`));
    probe(`http://${host}/login.php?id=${i}8`, notBlocked(`page with another query${deep}`));
    probe(`http://${host}/login.php`, notBlocked(`page without the query${deep}`));

    entries.push({ target: `http://${host}/phish${i}/`, kind: 'url' });
    probe(`http://${host}/phish${i}/a/b/c.html?u=1`, urlOnly(`below a directory prefix${deep}`));
    probe(`http://${host}/phish${i}/`, urlOnly(`the directory prefix itself${deep}`));
    probe(`http://${host}/phish${i}`, notBlocked(`the directory name without its slash${deep}`));
    probe(`http://${host}/phish${i}ing/`, notBlocked(`a directory that only shares the text${deep}`));
  }
  // A url entry on a host beyond Safe Browsing's five-label window keeps that window for sub-domains.
  const windowHost = `${word('g')}.${word('h')}.${word('i')}.${word('j')}.${word('k')}.${word('u')}.org`;
  entries.push({ target: `http://${windowHost}/deep/`, kind: 'url' });
  probe(`http://${windowHost}/deep/x`, urlOnly('below a directory prefix on a six-label host'));
  probe(
    `http://z.${windowHost}/deep/x`,
    notBlocked('url entries keep the five-label window: a deeper sub-domain'),
  );

  // IP literals: url entries only (a whole address is a rail); decimal and hex spellings canonicalize.
  for (let i = 0; i < 3; i++) {
    const octet = 10 + i;
    entries.push({ target: `http://192.0.2.${octet}/malware${i}/`, kind: 'url' });
    probe(`http://192.0.2.${octet}/malware${i}/x.exe`, urlOnly('IP literal below a directory prefix'));
    probe(`http://${(0xc0000200 + octet).toString(10)}/malware${i}/x.exe`, urlOnly('IP literal in decimal'));
    probe(`http://0x${(0xc0000200 + octet).toString(16)}/malware${i}/y`, urlOnly('IP literal in hex'));
    probe(`http://192.0.2.${octet}/`, notBlocked('IP literal root'));
    probe(`http://192.0.2.${octet}/malware${i}x/`, notBlocked('IP literal, another directory'));
  }
  // A url target whose canonical form is the bare host is a domain entry: the whole site.
  const bare = `${word('bare')}.info`;
  entries.push({ target: `https://${bare}/`, kind: 'domain' });
  probe(`http://${bare}/anything`, blockedName('url target of a bare host is a domain entry', true));
  probe(`http://deep.${bare}/`, blockedName('and covers its sub-domains', false));
  return { entries, probes };
}
