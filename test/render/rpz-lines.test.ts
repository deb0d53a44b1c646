import { describe, expect, it } from 'vitest';
import { compareExpressions } from '../../src/core/plain-payload.ts';
import { PlainState } from '../../src/core/plain-state.ts';
import type { FeedEntry } from '../../src/core/types.ts';
import { renderInto, resolveRenderOptions } from '../../src/render/index.ts';
import type { RenderOptions, RenderSource } from '../../src/render/options.ts';
import { renderRpzLines } from '../../src/render/rpz-lines.ts';
import { isSpecialTriggerAt } from '../../src/render/rpz-records.ts';
import { mixedEntries } from './fixtures.ts';

// The agent renders RPZ straight from its state's snapshot lines (rpz-lines.ts); the file must be the one
// the entry renderer writes, byte for byte, whatever the entries and options.

/** Entries the zone cannot hold, or holds without a wildcard, beside ordinary ones. */
function edgeEntries(): FeedEntry[] {
  const domain = (expression: string, action: FeedEntry['action'] = 'block'): FeedEntry => ({
    expression,
    kind: 'domain',
    category: 'malware',
    action,
  });
  const label = (c: string, n: number) => c.repeat(n);
  return [
    domain('1.2.3.4/'),
    domain('a..b.example/'),
    domain('-start.example/'),
    domain('_dmarc.example/'),
    domain('x.rpz-nsdname/'),
    domain('x.rpz-ip/'),
    domain('rpz-client-ip/'),
    domain('x.rpz-1a/'),
    domain('rpz-.example/'),
    domain('xrpz-ip/'),
    domain('UPPER.example/'),
    domain('no-slash.example'),
    domain('path.example/x'),
    domain('numeric.123/'),
    domain(`${label('a', 63)}.${label('b', 63)}.${label('c', 63)}.${label('d', 48)}/`),
    domain(`${label('a', 63)}.${label('b', 63)}.${label('c', 63)}.${label('d', 50)}/`),
    domain(`${label('a', 63)}.${label('b', 63)}.${label('c', 63)}.${label('d', 52)}/`),
    domain(`${label('e', 64)}.example/`),
    domain('redirect.example/', 'redirect'),
    {
      expression: 'shop.example/cart',
      kind: 'url' as const,
      category: 'fraud' as const,
      action: 'block' as const,
    },
  ].sort((a, b) => compareExpressions(a.expression, b.expression));
}

async function rendered(source: RenderSource, options: RenderOptions) {
  const parts: Uint8Array[] = [];
  const encoder = new TextEncoder();
  const stats = await renderInto(
    (piece) => {
      // A byte piece is reused after `write` returns: keep a copy, as a file sink would write it.
      parts.push(typeof piece === 'string' ? encoder.encode(piece) : piece.slice());
      return parts.length % 7 === 0 ? new Promise((resolve) => setTimeout(resolve, 0)) : undefined;
    },
    'rpz',
    source,
    { version: 4_294_967_301, options },
  );
  return { text: new TextDecoder().decode(Buffer.concat(parts)), stats };
}

const optionSets: [string, RenderOptions][] = [
  ['defaults', resolveRenderOptions()],
  ['a walled-garden host', resolveRenderOptions({ walledGardenHost: 'blocked.example.gov', ttl: 300 })],
  [
    'walled-garden addresses and a long zone',
    resolveRenderOptions({
      walledGardenAddresses: ['198.51.100.80', '2001:db8::80'],
      zone: `${'z'.repeat(40)}.policy.example.`,
    }),
  ],
];

describe('RPZ from snapshot lines', () => {
  const entries = [...mixedEntries(), ...edgeEntries()].sort((a, b) =>
    compareExpressions(a.expression, b.expression),
  );
  const state = PlainState.fromEntries(entries);

  it.each(optionSets)(
    'writes the bytes of the entry renderer on a real list sample, %s',
    async (_, options) => {
      const fromEntries = await rendered(entries, options);
      const fromLines = await rendered(state, options);
      expect(fromLines.stats).toEqual(fromEntries.stats);
      expect(fromLines.stats.rendered).toBeGreaterThan(2000);
      expect(fromLines.stats.ignored).toBeGreaterThan(900);
      expect(fromLines.stats.skipped).toBeGreaterThanOrEqual(10);
      expect(fromLines.text).toBe(fromEntries.text);
    },
  );

  it('is what renderInto picks for a plain state, and the entry path when order references are asked for', async () => {
    const options = resolveRenderOptions();
    const pieces = renderRpzLines(state, { version: 1, options });
    const kinds = new Set<string>();
    for await (const piece of pieces) kinds.add(typeof piece);
    expect(kinds).toEqual(new Set(['string', 'object']));

    const withRefs: string[] = [];
    await renderInto(
      (piece) => {
        withRefs.push(typeof piece === 'string' ? piece : new TextDecoder().decode(piece));
        return undefined;
      },
      'rpz',
      state,
      { version: 1, options, refs: () => 'ORDER-1' },
    );
    expect(withRefs.join('')).toContain('; malware ORDER-1\n');
  });

  it('renders states of many chunks and pieces, with long names', async () => {
    const many: FeedEntry[] = [];
    for (let i = 0; i < 5000; i++) {
      many.push({
        expression: `n${i}.${'x'.repeat(i % 200)}.example/`,
        kind: 'domain',
        category: 'fraud',
        action: 'block',
      });
    }
    many.sort((a, b) => compareExpressions(a.expression, b.expression));
    const options = resolveRenderOptions();
    expect((await rendered(PlainState.fromEntries(many), options)).text).toBe(
      (await rendered(many, options)).text,
    );
  });

  it.each([
    ['x.rpz-nsdname', true],
    ['rpz-ip', true],
    ['a.rpz-', true],
    ['a.rpz-a-b', true],
    ['a.rpz-1', false],
    ['a.xrpz-ip', false],
    ['rpz-ip.example', false],
    ['rpz', false],
  ])('isSpecialTriggerAt(%j) is %j', (name, special) => {
    const bytes = new TextEncoder().encode(`..${name}..`);
    expect(isSpecialTriggerAt(bytes, 2, 2 + name.length)).toBe(special);
  });
});
