/**
 * The whole URL check of an HTTP consumer (canonicalize, lookup expressions, filter state) on 1M entries,
 * against a plain JavaScript `Set` of the same entries with `new URL()` and a host-suffix walk, in one run:
 * on a domain-only list and on a mixed list with 20 % `url` entries, with the memory each one holds.
 */

import { encodeFilterSnapshot } from '../src/core/filter-payload.ts';
import { FilterState } from '../src/core/filter-state.ts';
import { canonicalizeUrl } from '../src/core/url.ts';
import { verdictOf } from '../workers/edge/verdict.ts';
import { missingData, NRD_LIST, PHISHING_URLS, readLines, shownPath, shuffled } from './lib/data.ts';
import { formatNumber, Recorder } from './lib/result.ts';
import { collectGarbage, interleavedMedians, MiB, median } from './lib/timing.ts';

const ENTRIES = 1_000_000;
const URL_SHARE = 0.2;
/** The hub's default Bloom rate, and the rate a smaller snapshot would use. */
const RATES = [1e-6, 1 / 32];
const ROUNDS = Number(process.env.TAKEDOWN_BENCH_ROUNDS ?? 5);
/** One query URL in this many is built on a listed entry (half on a name, half on a url entry). */
const LISTED_EVERY = 20;
const MEMORY_SHARE = 1 / 4;
/** Copies of each structure measured: the median, so that one collection between two readings cannot skew it. */
const MEMORY_SAMPLES = 3;

const rec = new Recorder(
  'lookup',
  'URL checks against a plain Set baseline',
  `Two lists of ${formatNumber(ENTRIES)} entries: the first ${formatNumber(ENTRIES)} names of ${shownPath(NRD_LIST)} ` +
    `(domain-only), and a mixed one of ${formatNumber(ENTRIES * (1 - URL_SHARE))} of those names plus ` +
    `${formatNumber(ENTRIES * URL_SHARE)} \`url\` entries (the following names of the same list, each with the path ` +
    `and query of a real URL of ${shownPath(PHISHING_URLS)}). Queries: every URL of that file (seeded shuffle), ` +
    `as flat strings (as a request's URL or a JSON body is), one in ${LISTED_EVERY} replaced by a URL on a listed entry (alternately a sub-domain of a listed name and a ` +
    'listed url entry). Ours: `verdictOf` (workers/edge/verdict.ts: canonicalizeUrl, lookup expressions and ' +
    '`FilterState` in full mode) on a snapshot built at each Bloom rate. Baseline: a `Set` of the entry strings ' +
    '(names, and `host/path?query` for url entries), `new URL()` in a try/catch, then `Set.has` on the hostname ' +
    'and each of its suffixes after a dot and, on the mixed list, on `host + pathname + search` and ' +
    `\`host + pathname\`. ${ROUNDS} rounds with the variants interleaved after a warm-up pass; medians of CPU ` +
    'time (URLs per CPU second). Memory: heap (plus array buffers) held after a full GC, the Set with its ' +
    'strings (each a flat copy), the state with the snapshot payload it keeps (Bloom filter and coded keys) and ' +
    'its key index; median of ' +
    `${MEMORY_SAMPLES} copies of each.`,
);

/** Keeps results alive so that no variant's work can be optimized away. */
let sink = 0;

/** A flat copy of a string, so that the Set's memory counts each string on its own (not a slice of the file). */
const flat = (s: string) => Buffer.from(s, 'latin1').toString('latin1');

/**
 * Heap plus array buffers after full collections. Array buffer memory is given back by a background task after
 * a collection, so this collects until the figure stops moving: a snapshot build just before would otherwise
 * still count its freed buffers.
 */
async function heapNow(): Promise<number> {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 20; i++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const m = process.memoryUsage();
    const now = m.heapUsed + m.arrayBuffers;
    if (Math.abs(now - last) < 64 * 1024) return now;
    last = now;
  }
  return last;
}

interface Lists {
  domainOnly: string[];
  mixed: string[];
  queries: string[];
}

/** The entry lists (as expressions) and the query URLs. */
function buildLists(names: readonly string[], urls: readonly string[]): Lists {
  const urlEntries = Math.round(ENTRIES * URL_SHARE);
  // Flat strings, so that building the Set (which reads them) changes nothing in the lists while its memory is measured.
  const domainOnly = names.slice(0, ENTRIES).map((n) => flat(`${n}/`));
  const tails: string[] = [];
  for (const u of urls) {
    const c = canonicalizeUrl(u);
    if (!c.ok || (c.value.path === '/' && c.value.query === null)) continue;
    tails.push(c.value.query === null ? c.value.path : `${c.value.path}?${c.value.query}`);
  }
  const extra = names.slice(ENTRIES, ENTRIES + urlEntries);
  const urlList = extra.map((n, i) => flat(`${n}${tails[i % tails.length]}`));
  const mixed = [...domainOnly.slice(0, ENTRIES - urlEntries), ...urlList];
  const listedNames = shuffled(names.slice(0, ENTRIES - urlEntries), 7);
  const listedUrls = shuffled(urlList, 11);
  // Flat copies, as a request's URL or a parsed JSON body is: a slice of the whole file makes every string
  // access (ours and new URL()'s alike) about twice as slow.
  const queries = shuffled(urls).map((u, i) => {
    if (i % LISTED_EVERY !== 0) return flat(u);
    const k = i / LISTED_EVERY;
    return k % 2 === 0
      ? `https://www.${listedNames[k % listedNames.length]}/login/verify.php?id=${i}`
      : `http://${listedUrls[k % listedUrls.length]}`;
  });
  return { domainOnly, mixed, queries };
}

/** The baseline's entries: names without the `/` of their root expression, url entries as they are. */
function baselineSet(expressions: readonly string[]): Set<string> {
  const set = new Set<string>();
  for (const e of expressions)
    set.add(flat(e.endsWith('/') && e.indexOf('/') === e.length - 1 ? e.slice(0, -1) : e));
  return set;
}

function baselineCheck(set: Set<string>, queries: readonly string[], withPaths: boolean): number {
  let blocked = 0;
  for (const q of queries) {
    let url: URL;
    try {
      url = new URL(q);
    } catch {
      continue;
    }
    const host = url.hostname;
    let hit = set.has(host);
    for (let dot = host.indexOf('.'); !hit && dot !== -1; dot = host.indexOf('.', dot + 1)) {
      hit = set.has(host.slice(dot + 1));
    }
    if (!hit && withPaths) {
      const path = host + url.pathname;
      hit = set.has(path + url.search) || set.has(path);
    }
    if (hit) blocked++;
  }
  return blocked;
}

function ourCheck(state: FilterState, queries: readonly string[]): number {
  let blocked = 0;
  for (const q of queries) {
    const v = verdictOf(state, q);
    if (v.ok && v.blocked) blocked++;
  }
  return blocked;
}

/** The first of several copies that `build` makes, and the median heap each one holds (all held while measuring). */
async function retained<T>(build: () => T): Promise<{ value: T; bytes: number }> {
  const held: T[] = [];
  const deltas: number[] = [];
  for (let i = 0; i < MEMORY_SAMPLES; i++) {
    const before = await heapNow();
    held.push(build());
    deltas.push((await heapNow()) - before);
  }
  return { value: held[0] as T, bytes: median(deltas) };
}

async function stateOf(expressions: readonly string[], fpr: number) {
  const { payload } = await encodeFilterSnapshot(expressions, { fpr });
  return retained(() => {
    // Each copy keeps a payload of its own: the state works on the payload's bytes, which a consumer holds.
    const made = FilterState.fromSnapshot(payload.slice());
    if (!made.ok) throw new Error(made.error.message);
    return made.value;
  });
}

const rateLabel = (fpr: number) => (fpr < 0.001 ? fpr.toExponential(0) : `1/${Math.round(1 / fpr)}`);

async function main() {
  const missing = missingData(NRD_LIST, PHISHING_URLS);
  if (missing) return rec.skip(missing);
  const lists = buildLists(readLines(NRD_LIST, ENTRIES * (1 + URL_SHARE)), readLines(PHISHING_URLS));
  const { queries } = lists;
  rec.figure('query URLs', queries.length, 'URLs', `1 in ${LISTED_EVERY} built on a listed entry`);

  const variants: Record<string, () => unknown> = {
    newUrl: () => {
      for (const q of queries) {
        try {
          sink += new URL(q).href.length;
        } catch {
          sink++;
        }
      }
    },
  };
  const blocked: Record<string, number> = {};
  const memory: Record<string, number> = {};
  for (const [list, withPaths] of [
    ['domainOnly', false],
    ['mixed', true],
  ] as const) {
    const { value: set, bytes } = await retained(() => baselineSet(lists[list]));
    memory[`set-${list}`] = bytes;
    variants[`set-${list}`] = () => {
      blocked[`set-${list}`] = baselineCheck(set, queries, withPaths);
    };
    for (const fpr of RATES) {
      const name = `ours-${list}-${rateLabel(fpr)}`;
      const made = await stateOf(lists[list], fpr);
      memory[name] = made.bytes;
      variants[name] = () => {
        blocked[name] = ourCheck(made.value, queries);
      };
    }
  }

  const t = await interleavedMedians(variants, ROUNDS);
  const rate = (name: string) => queries.length / (t[name]?.cpu as number);
  rec.figure('baseline: new URL() alone', rate('newUrl'), 'URLs/s');
  for (const list of ['domainOnly', 'mixed'] as const) {
    const label = list === 'mixed' ? `mixed list (${URL_SHARE * 100} % url entries)` : 'domain-only list';
    const setName = `set-${list}`;
    const setRate = rate(setName);
    const setBytes = memory[setName] as number;
    rec.figure(
      `${label}: baseline Set + new URL() + suffix walk`,
      setRate,
      'URLs/s',
      `${blocked[setName]} blocked; Set ${formatNumber(setBytes / MiB)} MiB`,
    );
    for (const fpr of RATES) {
      const name = `ours-${list}-${rateLabel(fpr)}`;
      const ours = rate(name);
      const bytes = memory[name] as number;
      rec.figure(
        `${label}: ours, Bloom rate ${rateLabel(fpr)}`,
        ours,
        'URLs/s',
        `${(ours / setRate).toFixed(2)}x the Set; ${blocked[name]} blocked; state ${formatNumber(bytes / MiB)} MiB ` +
          `(${((100 * bytes) / setBytes).toFixed(1)} % of the Set)`,
      );
      rec.goal(
        `${label}, Bloom rate ${rateLabel(fpr)}: URL checks`,
        '>= the Set baseline, state < 1/4 of its memory',
        `${formatNumber(ours)} vs ${formatNumber(setRate)} URLs/s; ${((100 * bytes) / setBytes).toFixed(1)} %`,
        ours >= setRate && bytes < setBytes * MEMORY_SHARE,
      );
    }
  }
  rec.note(
    'The baseline walks every suffix of the hostname (a public suffix included) and looks up paths only as ' +
      'given; ours follows the matching rules (docs/ARCHITECTURE.md, entries and matching), so the blocked ' +
      'counts may differ by a few URLs (e.g. a listed path reached through a parent directory).',
  );
  if (sink === 0) rec.note('no work was done');
  return rec.write();
}

await main();
