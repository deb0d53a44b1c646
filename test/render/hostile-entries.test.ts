import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIONS, CATEGORIES, type FeedEntry } from '../../src/core/types.ts';
import { OUTPUT_FORMATS, renderers, resolveRenderOptions } from '../../src/render/index.ts';
import { domainName } from '../../src/render/names.ts';
import { renderText } from './fixtures.ts';
import {
  parseDnsmasq,
  parseHosts,
  parseRpz,
  parseSquid,
  parseSquidUrl,
  parseUnbound,
} from './strict-parsers.ts';

// Whatever a feed or a reference lookup holds, every output stays within its grammar: no entry can
// add a directive, a record or a line of its own to a resolver's or a proxy's configuration.

const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\n',
    '\r\n',
    '"',
    ';',
    '#',
    ' ',
    '$INCLUDE /etc/passwd',
    'server:',
    '\u2028',
    '/',
    '.',
    '*',
  ),
);
const expression = fc.oneof(
  fc.domain().map((host) => `${host}/`),
  fc
    .tuple(fc.domain(), fc.webPath(), fc.option(fc.webQueryParameters()))
    .map(([h, p, q]) => `${h}${p || '/'}${q ? `?${q}` : ''}`),
  fc.tuple(fc.domain(), nasty, nasty).map(([host, a, b]) => `${a}${host}${b}/`),
  fc.tuple(fc.domain(), nasty).map(([host, path]) => `${host}/${path}`),
  nasty,
);
const entry = fc.record<FeedEntry>({
  expression,
  kind: fc.constantFrom('domain', 'url'),
  category: fc.constantFrom(...CATEGORIES),
  action: fc.constantFrom(...ACTIONS),
});
const input = fc.record({ entries: fc.array(entry, { maxLength: 25 }), ref: nasty });

const parsers = {
  rpz: (text: string) => parseRpz(text).records.map((record) => record.owner.replace(/^\*\./, '')),
  unbound: (text: string) => {
    const parsed = parseUnbound(text);
    return [...parsed.nxdomain, ...parsed.redirect];
  },
  dnsmasq: parseDnsmasq,
  hosts: (text: string) => parseHosts(text).map((line) => line.name),
  squid: parseSquid,
  'squid-url': (text: string) => parseSquidUrl(text).map(() => undefined),
};

describe.each(OUTPUT_FORMATS)('%s', (format) => {
  it('renders only well-formed lines, naming only valid names it was given', async () => {
    const options = resolveRenderOptions({ walledGardenAddresses: ['192.0.2.1', '2001:db8::1'] });
    let lines = 0;
    await fc.assert(
      fc.asyncProperty(input, async ({ entries, ref }) => {
        const text = await renderText(
          renderers[format].render(entries, { version: 7, options, refs: () => ref }),
        );
        const valid = new Set(
          entries.map((e) => (e.kind === 'domain' ? domainName(e.expression) : undefined)),
        );
        const rendered = parsers[format](text);
        lines += rendered.length;
        for (const name of rendered) {
          if (name !== undefined) expect(valid.has(name)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
    expect(lines).toBeGreaterThan(20);
  });
});
