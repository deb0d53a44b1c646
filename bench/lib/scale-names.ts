/** Names for the scale benchmark: the real domain lists of ../shared/data first, generated ones to fill up. */

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { dataPath, readLines } from './data.ts';

const DOMAIN_DIR = 'domains';

/** The last field of a list line (`0.0.0.0 name` or `name`), lower case; null for comments and blanks. */
function nameOf(line: string): string | null {
  const text = line.trim();
  if (text === '' || text.startsWith('#') || text.startsWith('!')) return null;
  const name = text.slice(text.lastIndexOf(' ') + 1).toLowerCase();
  return name.includes('.') ? name : null;
}

/** Every distinct name of the real domain lists present, up to `limit`, in the lists' order. */
export function realNames(limit: number): string[] {
  const dir = dataPath(DOMAIN_DIR);
  if (dir === null) return [];
  const seen = new Set<string>();
  for (const file of readdirSync(dir).sort()) {
    for (const line of readLines(join(DOMAIN_DIR, file))) {
      const name = nameOf(line);
      if (name !== null) seen.add(name);
      if (seen.size >= limit) return [...seen];
    }
  }
  return [...seen];
}

/**
 * `count` generated names that no real list holds (their registrable domain is `takedown-scale-N.com`),
 * distinct for distinct `(prefix, i)`, so later orders can add names the registry does not have yet.
 */
export function generatedNames(prefix: string, from: number, count: number): string[] {
  const names: string[] = [];
  for (let i = from; i < from + count; i++)
    names.push(`${prefix}${i.toString(36)}.takedown-scale-${i % 4099}.com`);
  return names;
}
