/**
 * The `filter` feed: snapshot build time and size on every list against the information bound of the false-block
 * target, gzip -9 and xz -9 of the sorted plain list; the bound at every version a consumer reaches through
 * deltas; URL lookups against the 1M snapshot; delta sizes; and the size and lookup speed for several Bloom rates.
 */

import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import bloomFilters from 'bloom-filters';
import { encodeArtifact, MIN_PAYLOAD_OFFSET } from '../src/core/artifact.ts';
import {
  DEFAULT_BLOOM_FPR,
  FALSE_BLOCK_TARGET,
  isRootExpression,
  type KeyWidths,
  PATH_EXPRESSIONS_PER_URL,
  ROOT_EXPRESSIONS_PER_URL,
} from '../src/core/confirm.ts';
import { lookupExpressions } from '../src/core/expressions.ts';
import { keysOf } from '../src/core/filter-keys.ts';
import { decodeFilterSnapshot, encodeFilterDelta, encodeFilterSnapshot } from '../src/core/filter-payload.ts';
import { FilterState } from '../src/core/filter-state.ts';
import { generateSigningKey } from '../src/core/keys.ts';
import { encodeDelta, type PlainChange } from '../src/core/plain-payload.ts';
import { canonicalizeUrl } from '../src/core/url.ts';
import { missingData, NRD_LIST, PHISHING_URLS, readLines, shownPath, shuffled } from './lib/data.ts';
import { formatNumber, Recorder } from './lib/result.ts';
import { collectGarbage, interleavedMedians, measure, medianOf } from './lib/timing.ts';

const FPR = DEFAULT_BLOOM_FPR;
/** Bloom rates of the size and speed curve (the configured f0; the filter gets up to 2x, confirm.ts). */
const CURVE = [1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64, 1 / 256, 1 / 4096];
const BUILD_ROUNDS = 3;
const LOOKUP_ROUNDS = 5;
/** bloom-filters' default hashing answers ~60-90k lookups/s: its comparison runs on this many URLs. */
const BASELINE_URLS = 40_000;
/** URLs whose expressions the lookup-only rows and the curve check. */
const CURVE_URLS = 100_000;
const DELTA_SIZES = [1_000, 10_000, 100_000];
/** The version chain: this many deltas of this many changes each, half adds and half removes. */
const VERSIONS = 15;
const CHANGES_PER_VERSION = 2_000;
/** URL entries of the mixed list, and its size. */
const MIXED_SIZE = 1_000_000;
const MIXED_URL_SHARE = 0.2;
/** The information bound per entry of a domain list: a set answering 5 root expressions per URL at T false blocks. */
const BOUND_BITS = Math.log2(ROOT_EXPRESSIONS_PER_URL / FALSE_BLOCK_TARGET);

/**
 * The information bound per entry of a list of `root` domain and `path` URL entries: two sets answering 5 and
 * 25 expressions per URL, with false-positive rates e_r, e_p such that 5 e_r + 25 e_p = T, need at least
 * n_r log2(1/e_r) + n_p log2(1/e_p) bits, least at e_c = T n_c / (n a_c): per entry the share-weighted
 * log2(a_c / T) plus the entropy of the mix. 42.2 bits for a domain list.
 */
function informationBound(root: number, path: number): number {
  const n = root + path;
  const term = (count: number, perUrl: number) =>
    count === 0 ? 0 : (count / n) * Math.log2((perUrl * n) / (FALSE_BLOCK_TARGET * count));
  return term(root, ROOT_EXPRESSIONS_PER_URL) + term(path, PATH_EXPRESSIONS_PER_URL);
}
const GOALS = {
  buildSeconds: 3,
  lookupsPerSecond: 300_000,
  deltaBytesPerChange: 5,
  boundRatio: 1.1,
};

const rec = new Recorder(
  'filter',
  'The filter feed: snapshot, lookups, deltas',
  `Lists: the first 1M and all 1.5M names of ${shownPath(NRD_LIST)} as \`name/\`, and a mixed 1M list of 800k ` +
    `of those names and 200k URL entries (the first expression of each distinct URL of ${shownPath(PHISHING_URLS)} ` +
    `with a path). Configured Bloom rate f0 = 1/${1 / FPR} (the filter gets the rate the key widths leave, up to 2 f0). ` +
    `Build: \`encodeFilterSnapshot\`, median of ${BUILD_ROUNDS} rounds (CPU time; one round for the mixed list). ` +
    `Sizes: the whole signed artifact in bits per entry against the information bound of the false-block ` +
    `target: log2(5 / 1e-12) = ${BOUND_BITS.toFixed(1)} bits for a domain list (a set answering 5 root ` +
    'expressions per URL with at most 1e-12 false blocks); with url entries, which a URL looks up 25 times, the ' +
    'share-weighted log2(a / 1e-12) plus the entropy of the mix (the least bits of two sets whose rates e_r, e_p ' +
    'keep 5 e_r + 25 e_p <= 1e-12; 43.4 bits at 20% url entries); ' +
    'against `gzip -9` (node:zlib level 9) and `xz -9` (the xz tool) of the sorted plain list, one entry per line. ' +
    'Versions: from the 1M snapshot, deltas of half adds (names past the first 1M) and half removes applied by ' +
    '`FilterState.applyDelta`, the false-block bound computed at each version from the keys and the Bloom filter ' +
    'as filled. Lookups: every URL of the phishing list (seeded shuffle) through canonicalizeUrl, ' +
    `lookupExpressions and \`FilterState.isBlocked\` on the 1M snapshot, median of ${LOOKUP_ROUNDS} interleaved ` +
    `rounds (URLs per CPU second); lookup-only rows check precomputed expressions of ${formatNumber(CURVE_URLS)} ` +
    `URLs; bloom-filters 3.0.4's \`has\` (its documented \`BloomFilter.create(n, 1e-6)\`) on those of the first ` +
    `${formatNumber(BASELINE_URLS)} URLs. Deltas: half adds of names outside the 1M set, half removes of names ` +
    'in it, as a signed artifact (`encodeFilterDelta` + `encodeArtifact`) and as the plain `dns` delta ' +
    '(`encodeDelta`) gzipped.',
);

const kib = (bytes: number) => `${formatNumber(bytes / 1024)} KiB`;
const bitsPer = (bytes: number, n: number) => (bytes * 8) / n;

/** xz -9 of `text`, in bytes. */
function xzSize(text: string): number {
  const out = spawnSync('xz', ['-9', '-c', '-T1'], { input: text, maxBuffer: 1 << 30 });
  if (out.status !== 0) throw new Error(`xz failed: ${out.stderr.toString()}`);
  return out.stdout.length;
}

interface NamedList {
  label: string;
  expressions: string[];
  rounds: number;
}

async function sizes(list: NamedList) {
  const { label, expressions, rounds } = list;
  const n = expressions.length;
  let snapshot = await encodeFilterSnapshot(expressions, { fpr: FPR });
  const build = await medianOf(async () => {
    snapshot = await encodeFilterSnapshot(expressions, { fpr: FPR });
  }, rounds);
  rec.figure(`${label}: snapshot build`, build.cpu, 's CPU', `${build.wall.toFixed(2)} s wall`);
  rec.goal(
    `${label} snapshot build`,
    `< ${GOALS.buildSeconds} s`,
    `${build.cpu.toFixed(2)} s CPU`,
    build.cpu < GOALS.buildSeconds,
  );

  const decoded = decodeFilterSnapshot(snapshot.payload);
  if (!decoded.ok) throw new Error(decoded.error.message);
  const { bloom, bits, keys } = decoded.value;
  const artifactBytes = snapshot.payload.length + MIN_PAYLOAD_OFFSET;
  const bloomBytes = bloom.bytes().length;
  const actual = bitsPer(artifactBytes, n);
  rec.figure(`${label}: whole snapshot artifact`, actual, 'bits/entry', kib(artifactBytes));
  rec.figure(
    `${label}: of which Bloom filter`,
    bitsPer(bloomBytes, n),
    'bits/entry',
    `m = ${bloom.size} bits, k = ${bloom.hashCount}`,
  );
  rec.figure(
    `${label}: of which confirmation keys (Rice-coded heads, tails)`,
    bitsPer(snapshot.payload.length - bloomBytes, n),
    'bits/entry',
    `${formatNumber(keys.root.keys.length)} root keys of ${bits.root} bits, ` +
      `${formatNumber(keys.path.keys.length)} path keys of ${bits.path} bits`,
  );
  const state = FilterState.fromSnapshot(snapshot.payload);
  if (!state.ok) throw new Error(state.error.message);
  rec.figure(
    `${label}: false-block chance per URL (union bound)`,
    state.value.falseBlockBound,
    'per URL',
    `Bloom rate ${state.value.bloomFpr.toExponential(2)}; target < ${FALSE_BLOCK_TARGET.toExponential(0)}`,
  );
  const bound = informationBound(keys.root.keys.length, keys.path.keys.length);
  rec.figure(
    `${label}: information bound of the false-block target`,
    bound,
    'bits/entry',
    `${formatNumber(keys.root.keys.length)} domain, ${formatNumber(keys.path.keys.length)} url entries`,
  );
  rec.goal(
    `${label} snapshot within ${GOALS.boundRatio}x the information bound`,
    `<= ${(GOALS.boundRatio * bound).toFixed(1)} bits/entry`,
    `${actual.toFixed(2)} bits/entry, ${(actual / bound).toFixed(3)}x`,
    actual <= GOALS.boundRatio * bound,
  );
  const plain = `${[...expressions]
    .map((e) => (isRootExpression(e) ? e.slice(0, -1) : e))
    .sort()
    .join('\n')}\n`;
  const gzip = gzipSync(plain, { level: 9 }).length;
  const xz = xzSize(plain);
  rec.figure(`${label}: gzip -9 of the sorted plain list`, bitsPer(gzip, n), 'bits/entry', kib(gzip));
  rec.figure(`${label}: xz -9 of the sorted plain list`, bitsPer(xz, n), 'bits/entry', kib(xz));
  rec.goal(
    `${label} snapshot artifact smaller than gzip -9 of the list`,
    `< ${kib(gzip)}`,
    `${kib(artifactBytes)} (xz -9: ${kib(xz)})`,
    artifactBytes < gzip,
  );
  collectGarbage();
  return snapshot;
}

/** The false-block bound at every version a consumer reaches by deltas from the 1M snapshot. */
async function versions(names: readonly string[], payload: Uint8Array, bits: KeyWidths) {
  const inside = 1_000_000;
  const made = FilterState.fromSnapshot(payload);
  if (!made.ok) throw new Error(made.error.message);
  let state = made.value;
  let held = new Set(names.slice(0, inside).map((name) => `${name}/`));
  const half = CHANGES_PER_VERSION / 2;
  let worst = state.falseBlockBound;
  let applied = 0;
  let refused = '';
  const bounds: string[] = [];
  for (let v = 0; v < VERSIONS; v++) {
    const added = names.slice(inside + v * half, inside + (v + 1) * half).map((name) => `${name}/`);
    const removed = names
      .slice(v * half * 7, v * half * 7 + half * 7)
      .filter((_, i) => i % 7 === 0)
      .map((name) => `${name}/`);
    for (const e of removed) held.delete(e);
    for (const e of added) held.add(e);
    const next = state.applyDelta(encodeFilterDelta(added, removed, bits, keysOf(held, bits)));
    if (!next.ok) {
      refused = `version ${v + 1}: ${next.error.code} (${next.error.message})`;
      break;
    }
    state = next.value;
    applied++;
    worst = Math.max(worst, state.falseBlockBound);
    bounds.push(state.falseBlockBound.toExponential(2));
  }
  held = new Set();
  rec.figure(
    `1M: worst false-block bound over ${applied} versions by deltas`,
    worst,
    'per URL',
    `${applied} deltas of ${formatNumber(CHANGES_PER_VERSION)} changes (${formatNumber((applied * CHANGES_PER_VERSION) / 2)} keys added to the Bloom filter): ` +
      `${bounds.join(', ')}${refused ? `; refused ${refused}` : ''}; Bloom rate ${state.bloomFpr.toExponential(2)} at the last`,
  );
  rec.goal(
    `false-block bound at every version reached by deltas (${applied} of ${VERSIONS})`,
    `< ${FALSE_BLOCK_TARGET.toExponential(0)} per URL`,
    worst.toExponential(2),
    worst < FALSE_BLOCK_TARGET && applied === VERSIONS,
  );
}

async function bloomFiltersDefault(names: readonly string[]) {
  const n = 1_000_000;
  const expressions = names.slice(0, n).map((name) => `${name}/`);
  const filter = bloomFilters.BloomFilter.create(n, 1e-6);
  const add = await measure(() => {
    for (const e of expressions) filter.add(e);
  });
  const json = JSON.stringify(filter.saveAsJSON()).length;
  rec.figure('1M: bloom-filters default, add', add.cpu, 's CPU', `${add.wall.toFixed(1)} s wall`);
  rec.figure(
    '1M: bloom-filters default, saveAsJSON',
    bitsPer(json, n),
    'bits/entry',
    `${kib(json)}, Bloom filter only, no confirmation`,
  );
  return filter;
}

/** Precomputed lookup expressions of URLs; copies, see `lookups`. */
const expressionsOf = (urls: readonly string[]) =>
  urls.map((u) => {
    const c = canonicalizeUrl(u);
    return c.ok ? [...lookupExpressions(c.value)] : [];
  });

async function lookups(
  payload: Uint8Array,
  filter: InstanceType<typeof bloomFilters.BloomFilter>,
  sorted: readonly string[],
) {
  const urls = shuffled(sorted);
  const made = FilterState.fromSnapshot(payload);
  if (!made.ok) throw new Error(made.error.message);
  const state = made.value;
  let blocked = 0;
  const check = (list: readonly string[]) => {
    blocked = 0;
    for (const u of list) {
      const c = canonicalizeUrl(u);
      if (c.ok && state.isBlocked(lookupExpressions(c.value))) blocked++;
    }
  };
  // Copies: keeping lookupExpressions' own arrays alive would make V8 pretenure that allocation site (allocate
  // its arrays in the old generation), after which every URL check of this process promotes its garbage.
  const many = expressionsOf(urls.slice(0, CURVE_URLS));
  const few = many.slice(0, BASELINE_URLS);
  const t = await interleavedMedians(
    {
      all: () => check(urls),
      sorted: () => check(sorted),
      ours: () => {
        for (const e of many) state.isBlocked(e);
      },
      theirs: () => {
        for (const e of few) e.some((x) => filter.has(x));
      },
    },
    LOOKUP_ROUNDS,
  );
  const perUrl = urls.length / (t.all?.cpu as number);
  rec.figure(
    'URL checks on the 1M snapshot (canonicalize + expressions + isBlocked)',
    perUrl,
    'URLs/s',
    `${blocked} of ${urls.length} blocked; ${formatNumber(urls.length / (t.all?.wall as number))} URLs/s by wall clock`,
  );
  rec.figure(
    'the same, URLs in file order (byte-sorted: runs of one host)',
    sorted.length / (t.sorted?.cpu as number),
    'URLs/s',
  );
  rec.goal(
    'URL checks against the 1M snapshot (shuffled URLs)',
    `>= ${formatNumber(GOALS.lookupsPerSecond)} URLs/s`,
    `${formatNumber(perUrl)} URLs/s`,
    perUrl >= GOALS.lookupsPerSecond,
  );
  const lookupOnly = many.length / (t.ours?.cpu as number);
  rec.figure('lookup only: FilterState.isBlocked on precomputed expressions', lookupOnly, 'URLs/s');
  rec.note(
    `Of the ${(1e6 / perUrl).toFixed(2)} us a shuffled URL check costs, the filter lookup itself takes ` +
      `${(1e6 / lookupOnly).toFixed(2)} us: a domain-only feed hashes only the root expressions (a class without ` +
      'keys is answered before hashing), then the Bloom filter stops most at the first or second zero bit and a ' +
      'hit is confirmed by binary search; the rest is canonicalization and expression building (bench/canonicalize.ts).',
  );
  rec.figure(
    'lookup only: bloom-filters default `has` on the same expressions',
    few.length / (t.theirs?.cpu as number),
    'URLs/s',
    `first ${formatNumber(BASELINE_URLS)} URLs; no confirmation step`,
  );
  return many;
}

/** Size and lookup-only speed of the 1M snapshot for several configured Bloom rates. */
async function curve(names: readonly string[], many: readonly string[][]) {
  const expressions = names.slice(0, 1_000_000).map((name) => `${name}/`);
  const states: Record<string, FilterState> = {};
  for (const fpr of CURVE) {
    const snapshot = await encodeFilterSnapshot(expressions, { fpr });
    const made = FilterState.fromSnapshot(snapshot.payload);
    if (!made.ok) throw new Error(made.error.message);
    const label = `f0 = 1/${1 / fpr}`;
    states[label] = made.value;
    const bitsEntry = bitsPer(snapshot.payload.length + MIN_PAYLOAD_OFFSET, expressions.length);
    rec.figure(
      `curve, ${label}: snapshot size`,
      bitsEntry,
      'bits/entry',
      `${(bitsEntry / BOUND_BITS).toFixed(3)}x the bound; widths ${snapshot.bits.root},${snapshot.bits.path}; ` +
        `Bloom rate ${made.value.bloomFpr.toExponential(2)}`,
    );
  }
  collectGarbage();
  const runs = Object.fromEntries(
    Object.entries(states).map(([label, state]) => [
      label,
      () => {
        for (const e of many) state.isBlocked(e);
      },
    ]),
  );
  const t = await interleavedMedians(runs, LOOKUP_ROUNDS);
  for (const label of Object.keys(states)) {
    rec.figure(`curve, ${label}: lookup only`, many.length / (t[label]?.cpu as number), 'URLs/s');
  }
}

async function deltas(names: readonly string[], bits: KeyWidths, fullListGzip: number) {
  const key = await generateSigningKey();
  const inside = 1_000_000;
  for (const changes of DELTA_SIZES) {
    const half = changes / 2;
    const added = names.slice(inside, inside + half).map((name) => `${name}/`);
    const step = Math.floor(inside / half);
    const removed = Array.from({ length: half }, (_, i) => `${names[i * step]}/`);
    const gone = new Set(removed);
    const after = keysOf(
      [
        ...names
          .slice(0, inside)
          .map((name) => `${name}/`)
          .filter((e) => !gone.has(e)),
        ...added,
      ],
      bits,
    );
    const manifest = {
      kind: 'delta' as const,
      feed: 'filter',
      from: 1,
      to: 2,
      createdAt: 0,
      expiresAt: 1,
      entryCount: inside,
      checksum: '0'.repeat(64),
    };
    const filterArtifact = await encodeArtifact(
      manifest,
      encodeFilterDelta(added, removed, bits, after),
      key,
    );
    const plain: PlainChange[] = [
      ...added.map((expression) => ({
        op: 'add' as const,
        expression,
        kind: 'domain' as const,
        category: 'other' as const,
        action: 'block' as const,
      })),
      ...removed.map((expression) => ({ op: 'remove' as const, expression })),
    ];
    const plainArtifact = await encodeArtifact({ ...manifest, feed: 'dns' }, encodeDelta(plain), key);
    const plainGzip = gzipSync(plainArtifact, { level: 9 }).length;
    const label = `${formatNumber(changes)} changes`;
    rec.figure(
      `${label}: filter delta artifact`,
      filterArtifact.length / changes,
      'bytes/change',
      `${kib(filterArtifact.length)}, ${((100 * filterArtifact.length) / fullListGzip).toFixed(2)}% of the gzipped 1M list`,
    );
    rec.figure(
      `${label}: plain dns delta artifact, gzip -9`,
      plainGzip / changes,
      'bytes/change',
      `${kib(plainGzip)}, ${((100 * plainGzip) / fullListGzip).toFixed(2)}% of the gzipped 1M list`,
    );
    rec.goal(
      `filter delta, ${label}`,
      `<= ${GOALS.deltaBytesPerChange} bytes/change`,
      `${(filterArtifact.length / changes).toFixed(2)} bytes/change`,
      filterArtifact.length / changes <= GOALS.deltaBytesPerChange,
    );
  }
}

/** 800k names and 200k URL entries: the first expression (host, path, query) of distinct URLs with a path. */
function mixedList(names: readonly string[], urls: readonly string[]): string[] {
  const wanted = Math.round(MIXED_SIZE * MIXED_URL_SHARE);
  const found = new Set<string>();
  for (const u of urls) {
    const c = canonicalizeUrl(u);
    if (!c.ok) continue;
    const first = lookupExpressions(c.value)[0];
    if (first !== undefined && !isRootExpression(first)) found.add(first);
    if (found.size === wanted) break;
  }
  return [...names.slice(0, MIXED_SIZE - found.size).map((name) => `${name}/`), ...found];
}

async function main() {
  const missing = missingData(NRD_LIST, PHISHING_URLS);
  if (missing) return rec.skip(missing);
  const names = readLines(NRD_LIST);
  const urls = readLines(PHISHING_URLS);
  const lists: NamedList[] = [
    { label: '1M', expressions: names.slice(0, 1_000_000).map((name) => `${name}/`), rounds: BUILD_ROUNDS },
    { label: '1.5M', expressions: names.map((name) => `${name}/`), rounds: BUILD_ROUNDS },
    { label: '1M mixed (20% url)', expressions: mixedList(names, urls), rounds: 1 },
  ];
  const snapshots = [];
  for (const list of lists) snapshots.push(await sizes(list));
  lists.length = 0;
  const snapshot1M = snapshots[0] as Awaited<ReturnType<typeof sizes>>;
  snapshots.length = 0;
  rec.note(
    `The snapshot is a Bloom filter over (class, key, extension) plus Rice-coded key heads and raw tails: about ` +
      `0.44 log2(1/f) + log2(5 / 1e-12) + 1.5 bits per entry for Bloom rate f, so f is the knob between size and ` +
      `lookup speed (the curve below); f0 = 1/${1 / FPR} (docs/DECISIONS.md). Sorted domain names share long ` +
      'prefixes, which is what gzip and xz feed on; hashes share nothing, so the keys cannot go below their entropy.',
  );
  await versions(names, snapshot1M.payload, snapshot1M.bits);
  collectGarbage();
  const filter = await bloomFiltersDefault(names);
  collectGarbage();
  const many = await lookups(snapshot1M.payload, filter, urls);
  collectGarbage();
  await curve(names, many);
  const fullListGzip = gzipSync(`${names.slice(0, 1_000_000).join('\n')}\n`, { level: 9 }).length;
  await deltas(names, snapshot1M.bits, fullListGzip);
  return rec.write();
}

await main();
