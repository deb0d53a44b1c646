/** The real third-party lists the benchmarks read, from ../shared/data beside the repository. */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DATA_DIR = join(REPO_ROOT, '..', 'shared', 'data');

/** The 1.5M newly registered domains (sorted, lower case). */
export const NRD_LIST = 'domains/nrd_shreshta_sample-union_2024-02-08_to_2024-06-03.txt.gz';
/** 141k active phishing domains: a list a tenth the size of the NRD one. */
export const PHISHING_DOMAINS = 'domains/phishing-database_phishing-domains-ACTIVE_2026-03-13.txt.gz';
/** The 380k real phishing URLs (raw lines: mixed case, queries, IP hosts, a few with tabs). */
export const PHISHING_URLS = 'urls/phishing-database_phishing-links_history-union_2024-12_to_2026-08.txt.gz';

/** How the docs and messages name a data file: relative to the repository root. */
export const shownPath = (relative: string) => `../shared/data/${relative}`;

/** The absolute path of a data file, or null when it is not present. */
export function dataPath(relative: string): string | null {
  const path = join(DATA_DIR, relative);
  return existsSync(path) ? path : null;
}

/** The first data file that is absent, as the skip reason, or null when all are present. */
export function missingData(...relatives: string[]): string | null {
  const absent = relatives.find((r) => dataPath(r) === null);
  return absent === undefined ? null : `${shownPath(absent)} not present`;
}

/** The non-empty lines of a (possibly gzipped) data file, otherwise untouched. */
export function readLines(relative: string, limit = Number.POSITIVE_INFINITY): string[] {
  const path = dataPath(relative);
  if (path === null) throw new Error(`${shownPath(relative)} not present`);
  const raw = readFileSync(path);
  const text = (relative.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const lines: string[] = [];
  let start = 0;
  while (start < text.length && lines.length < limit) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.charCodeAt(end - 1) === 0x0d ? text.slice(start, end - 1) : text.slice(start, end);
    if (line !== '') lines.push(line);
    start = end + 1;
  }
  return lines;
}

/** A seeded shuffle (xorshift32), so every run sees the same "unsorted" order. */
export function shuffled<T>(items: readonly T[], seed = 0x9e3779b9): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
