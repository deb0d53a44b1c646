import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTool, missingTools } from '../../bench/lib/resolvers/unbound.ts';
import { renderToFile } from '../../src/agent/render-to-file.ts';
import type { FeedEntry } from '../../src/core/types.ts';
import { type OutputFormat, type RenderOptions, resolveRenderOptions } from '../../src/render/index.ts';
import { domain, mixedEntries, sampleRefs, url } from './fixtures.ts';
import {
  parseDnsmasq,
  parseHosts,
  parseRpz,
  parseSquid,
  parseSquidUrl,
  parseUnbound,
} from './strict-parsers.ts';

const run = promisify(execFile);
const VERSION = 2 ** 32 + 1234;

// Real list samples plus the cases the samples lack: a sub-domain sorted before its parent, and
// paths full of regular-expression metacharacters.
const entries: FeedEntry[] = [
  ...mixedEntries(),
  domain('a.b.parent.example'),
  domain('parent.example'),
  url('host.example/phish/'),
  url('evil.example/login.php?x=1'),
  url('host.example/a(b)+c.html'),
  url('meta.example/$^|[x]{2}*+\\.php?q=a|b'),
  url('192.0.2.7/admin'),
].sort((a, b) => (a.expression < b.expression ? -1 : 1));
const refs = sampleRefs(entries);
const options = resolveRenderOptions({ walledGardenAddresses: ['192.0.2.1', '2001:db8::1'] });
const domains = entries.filter((entry) => entry.kind === 'domain');
const names = (action?: FeedEntry['action']) =>
  domains.filter((entry) => !action || entry.action === action).map((entry) => entry.expression.slice(0, -1));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'render-formats-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function render(format: OutputFormat, renderOptions: RenderOptions = options) {
  const path = join(dir, `${format}.out`);
  const { stats } = await renderToFile(path, format, entries, {
    version: VERSION,
    options: renderOptions,
    refs,
  });
  return { path, stats, text: await readFile(path, 'utf8') };
}

async function check(tool: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await run(findTool(tool) ?? tool, args);
  return stdout + stderr;
}

describe('rpz', () => {
  it('holds two policy records per domain entry, the serial and the trace comments', async () => {
    const { text, stats } = await render('rpz');
    const zone = parseRpz(text);
    expect(zone.origin).toBe('rpz.takedown.');
    expect(zone.serial).toBe(1234 * 64);
    expect(stats).toEqual({ rendered: domains.length, ignored: entries.length - domains.length, skipped: 0 });
    const owners = new Set(zone.records.map((record) => record.owner));
    for (const name of names()) expect(owners.has(name) && owners.has(`*.${name}`)).toBe(true);
    const blocked = zone.records.filter((record) => record.type === 'CNAME' && record.data === '.');
    expect(blocked.length).toBe(2 * names('block').length);
    expect(zone.records.length).toBe(blocked.length + 4 * names('redirect').length);
    const traced = entries.find((entry) => entry.kind === 'domain' && refs(entry.expression));
    const ref = traced && refs(traced.expression);
    expect(zone.records.find((record) => `${record.owner}/` === traced?.expression)?.comment).toBe(
      `${traced?.category} ${ref}`,
    );
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      `; end: ${domains.length} entries, 0 skipped, registry version ${VERSION}`,
    );
  });

  it.skipIf(missingTools(['named-checkzone']))(
    'loads in named-checkzone, with a walled-garden host too',
    async () => {
      const { path } = await render('rpz');
      expect(await check('named-checkzone', ['rpz.takedown', path])).toMatch(/loaded serial 78976\nOK/);
      const host = await render(
        'rpz',
        resolveRenderOptions({ walledGardenHost: 'blocked.isp.example', zone: 'rpz.isp.example' }),
      );
      expect(await check('named-checkzone', ['rpz.isp.example', host.path])).toMatch(/OK/);
    },
  );
});

describe('unbound', () => {
  it('writes always_nxdomain zones, and redirect zones with the walled-garden addresses', async () => {
    const parsed = parseUnbound((await render('unbound')).text);
    expect(parsed.nxdomain).toEqual(names('block'));
    expect(parsed.redirect).toEqual(names('redirect'));
    expect(parsed.data.length).toBe(2 * names('redirect').length);
    const first = names('redirect')[0];
    expect(parsed.data).toContain(`${first}. 60 IN A 192.0.2.1`);
    expect(parsed.data).toContain(`${first}. 60 IN AAAA 2001:db8::1`);
  });

  it.skipIf(missingTools(['unbound-checkconf']))('passes unbound-checkconf as an include', async () => {
    const { path } = await render('unbound');
    const config = join(dir, 'unbound.conf');
    await writeFile(
      config,
      `server:\n  username: ""\n  chroot: ""\n  directory: "${dir}"\n  include: "${path}"\n`,
    );
    expect(await check('unbound-checkconf', [config])).toMatch(/no errors/);
  });
});

describe('dnsmasq', () => {
  it('writes one server=/name/ line per domain entry, redirects included', async () => {
    expect(parseDnsmasq((await render('dnsmasq')).text)).toEqual(names());
  });
});

describe('hosts', () => {
  it('writes 0.0.0.0 for blocked names and the walled-garden addresses for redirected ones', async () => {
    const { text } = await render('hosts');
    expect(text).toMatch(/cannot block sub-domains/);
    const lines = parseHosts(text);
    expect(lines.filter((line) => line.address === '0.0.0.0').map((line) => line.name)).toEqual(
      names('block'),
    );
    expect(lines.filter((line) => line.address === '192.0.2.1').map((line) => line.name)).toEqual(
      names('redirect'),
    );
    expect(lines.filter((line) => line.address === '2001:db8::1').map((line) => line.name)).toEqual(
      names('redirect'),
    );
  });
});

const hasSquid = !missingTools(['squid'], { requiredInCi: false });

async function squidParse(acl: string): Promise<string> {
  const config = join(dir, 'squid.conf');
  await writeFile(config, `${acl}\nhttp_access deny all\nhttp_port 127.0.0.1:3128\ncache_log /dev/null\n`);
  return check('squid', ['-k', 'parse', '-f', config]);
}

describe('squid', () => {
  it('lists each name once with a leading dot, leaving out sub-domains of listed names', async () => {
    const listed = parseSquid((await render('squid')).text);
    const set = new Set(listed);
    const ancestors = (name: string) => name.split('.').map((_, i, labels) => labels.slice(i + 1).join('.'));
    expect(listed.filter((name) => ancestors(name).some((ancestor) => set.has(ancestor)))).toEqual([]);
    expect(names().filter((name) => !set.has(name) && !ancestors(name).some((a) => set.has(a)))).toEqual([]);
    expect(set.has('parent.example') && !set.has('a.b.parent.example')).toBe(true);
  });

  it.skipIf(!hasSquid)('passes squid -k parse without a warning', async () => {
    const { path } = await render('squid');
    const output = await squidParse(`acl takedown dstdomain "${path}"\nhttp_access deny takedown`);
    expect(output).not.toMatch(/WARNING|ERROR|FATAL/);
  });
});

describe('squid-url', () => {
  it('matches each url entry on http and https, with or without a port', async () => {
    const patterns = parseSquidUrl((await render('squid-url')).text);
    const urls = entries.filter((entry) => entry.kind === 'url');
    expect(patterns.length).toBe(urls.length);
    urls.forEach((entry, i) => {
      expect(patterns[i]?.test(`http://${entry.expression}`)).toBe(true);
      const [host, ...path] = entry.expression.split('/');
      expect(patterns[i]?.test(`https://${host}:8443/${path.join('/')}`)).toBe(true);
    });
  });

  it('treats a trailing slash as a prefix, a query as exact, a bare page as any query', async () => {
    const patterns = parseSquidUrl((await render('squid-url')).text);
    const blocked = (target: string) => patterns.some((pattern) => pattern.test(target));
    expect(blocked('http://host.example/phish/')).toBe(true);
    expect(blocked('http://host.example/phish/deeper/page.html?x=1')).toBe(true);
    expect(blocked('https://www.host.example/phish/')).toBe(true);
    expect(blocked('http://host.example/phishy')).toBe(false);
    expect(blocked('http://evilhost.example/phish/')).toBe(false);
    expect(blocked('http://host.example.evil/phish/')).toBe(false);
    expect(blocked('http://evil.example/login.php?x=1')).toBe(true);
    expect(blocked('http://evil.example/login.php?x=12')).toBe(false);
    expect(blocked('http://evil.example/login.php')).toBe(false);
    expect(blocked('http://host.example/a(b)+c.html')).toBe(true);
    expect(blocked('http://host.example/a(b)+c.html?utm=1')).toBe(true);
    expect(blocked('http://host.example/a(b)+c.htmlx')).toBe(false);
    expect(blocked('http://host.example/abbc.html')).toBe(false);
    expect(blocked('http://meta.example/$^|[x]{2}*+\\.php?q=a|b')).toBe(true);
    expect(blocked('http://meta.example/$^|xx*+\\.php?q=a|b')).toBe(false);
    expect(blocked('http://192.0.2.7/admin')).toBe(true);
    expect(blocked('http://10.192.0.2.7/admin')).toBe(false);
  });

  it.skipIf(!hasSquid)('passes squid -k parse', async () => {
    const { path } = await render('squid-url');
    const output = await squidParse(`acl takedown_url url_regex -i "${path}"\nhttp_access deny takedown_url`);
    // The one expected warning: Squid tries every pattern on every request.
    expect(output).toMatch(/WARNING: there are more than 100 regular expressions/);
    expect(output.replace(/WARNING: there are more than 100 regular expressions/, '')).not.toMatch(
      /WARNING|ERROR|FATAL/,
    );
  });
});
