import { readFileSync } from 'node:fs';
import { CATEGORIES, type FeedEntry } from '../../src/core/types.ts';
import type { RefLookup } from '../../src/render/index.ts';

// Entries built from small real blocklist samples (see test/fixtures/README.md).

function fixtureLines(name: string): string[] {
  const text = readFileSync(new URL(`../fixtures/render/${name}`, import.meta.url), 'utf8');
  return text.split('\n').filter((line) => line.length > 0);
}

const byExpression = (a: FeedEntry, b: FeedEntry) =>
  a.expression < b.expression ? -1 : a.expression > b.expression ? 1 : 0;

/** About 2,200 real malware domains as `domain` entries; every seventh is a `redirect`. */
export function domainEntries(): FeedEntry[] {
  return fixtureLines('shadowwhisperer-malware-sample.txt')
    .map(
      (name, i): FeedEntry => ({
        expression: `${name}/`,
        kind: 'domain',
        category: CATEGORIES[i % CATEGORIES.length] ?? 'other',
        action: i % 7 === 3 ? 'redirect' : 'block',
      }),
    )
    .sort(byExpression);
}

/** About 1,000 real phishing URLs (scheme-less `host/path`) as `url` entries. */
export function urlEntries(): FeedEntry[] {
  return fixtureLines('ut1-phishing-urls-sample.txt')
    .map((expression): FeedEntry => ({ expression, kind: 'url', category: 'phishing', action: 'block' }))
    .sort(byExpression);
}

/** Both lists merged in the feed's sorted order, as the `url` feed delivers them. */
export function mixedEntries(): FeedEntry[] {
  return [...domainEntries(), ...urlEntries()].sort(byExpression);
}

/** An order reference for every other expression (the agent may know only the category). */
export function sampleRefs(entries: readonly FeedEntry[]): RefLookup {
  const refs = new Map(
    entries.map((entry, i) => [entry.expression, i % 2 === 0 ? `${5000 + i}/BTTTT-CATTT` : undefined]),
  );
  return (expression) => refs.get(expression);
}

export function domain(name: string, action: FeedEntry['action'] = 'block'): FeedEntry {
  return { expression: `${name}/`, kind: 'domain', category: 'phishing', action };
}

export function url(expression: string): FeedEntry {
  return { expression, kind: 'url', category: 'phishing', action: 'block' };
}

/** Renders to a string in memory (tests only: the agent always streams to a file). */
export async function renderText(pieces: AsyncGenerator<string, unknown, undefined>): Promise<string> {
  let text = '';
  for await (const piece of pieces) text += piece;
  return text;
}
