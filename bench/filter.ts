/**
 * The `filter` feed: snapshot build time and size for 1M and 1.5M expressions against the information bound,
 * bloom-filters' default usage and gzip -9 of the plain list; URL lookups against the 1M snapshot; delta sizes.
 */

import { gzipSync } from 'node:zlib';
import bloomFilters from 'bloom-filters';
import { encodeArtifact, MIN_PAYLOAD_OFFSET } from '../src/core/artifact.ts';
import { FALSE_BLOCK_TARGET, falseBlockChance, type KeyWidths } from '../src/core/confirm.ts';
import { lookupExpressions } from '../src/core/expressions.ts';
import { decodeFilterSnapshot, encodeFilterDelta, encodeFilterSnapshot } from '../src/core/filter-payload.ts';
import { FilterState } from '../src/core/filter-state.ts';
import { generateSigningKey } from '../src/core/keys.ts';
import { encodeDelta, type PlainChange } from '../src/core/plain-payload.ts';
import { canonicalizeUrl } from '../src/core/url.ts';
import { missingData, NRD_LIST, PHISHING_URLS, readLines, shownPath, shuffled } from './lib/data.ts';
import { formatNumber, Recorder } from './lib/result.ts';
import { collectGarbage, interleavedMedians, measure, medianOf } from './lib/timing.ts';

const FPR = 1e-6;
const SIZES = [1_000_000, 1_500_000];
const BUILD_ROUNDS = 3;
const LOOKUP_ROUNDS = 5;
/** bloom-filters' default hashing answers ~60-90k lookups/s: its comparison runs on this many URLs. */
const BASELINE_URLS = 40_000;
const DELTA_SIZES = [1_000, 10_000, 100_000];
/** Header bytes of a filter snapshot payload (see filter-payload.ts). */
const SNAPSHOT_HEADER_BYTES = 32;
const GOALS = { buildSeconds: 3, lookupsPerSecond: 300_000, deltaBytesPerChange: 5 };

const rec = new Recorder(
  'filter',
  'The filter feed: snapshot, lookups, deltas',
  `Expressions \`name/\` of the first 1M and of all 1.5M names of ${shownPath(NRD_LIST)}, false-positive ` +
    `rate ${FPR.toExponential(0)}. Build: \`encodeFilterSnapshot\`, median of ${BUILD_ROUNDS} rounds (CPU time). Sizes against ` +
    'the information bound (per key class, log2(1/e) bits per key for the rate e at which one expression of ' +
    'that class is falsely confirmed), against bloom-filters 3.0.4 ' +
    'used by its documentation (`BloomFilter.create(n, 1e-6)`, `add`, `saveAsJSON` as a JSON string; 1M only, it ' +
    'is slow) and against `gzip -9` (node:zlib level 9) of the sorted plain list. Lookups: every URL of ' +
    `${shownPath(PHISHING_URLS)} (seeded shuffle) through canonicalizeUrl, lookupExpressions and ` +
    `\`FilterState.isBlocked\` on the 1M snapshot, median of ${LOOKUP_ROUNDS} interleaved rounds (URLs per CPU ` +
    `second); bloom-filters' \`has\` on the same expressions of the first ${formatNumber(BASELINE_URLS)} URLs. ` +
    'Deltas: half adds of names outside the 1M set, half removes of names in it, as a signed artifact ' +
    '(`encodeFilterDelta` + `encodeArtifact`) and as the plain `dns` delta (`encodeDelta`) gzipped.',
);

const kib = (bytes: number) => `${formatNumber(bytes / 1024)} KiB`;

/** Key width of one key set for all 30 expressions of a URL, as format 1 chose it. */
const oneSetBits = (n: number) => Math.floor(Math.log2((30 * FPR * n) / FALSE_BLOCK_TARGET)) + 1;

/** False-positive rate of a Bloom filter of m bits and k hashes holding n elements. */
const bloomRate = (m: number, k: number, n: number) => (1 - Math.exp((-k * n) / m)) ** k;

async function sizes(names: readonly string[]) {
  let snapshot1M: Awaited<ReturnType<typeof encodeFilterSnapshot>> | null = null;
  for (const n of SIZES) {
    const subset = names.slice(0, n);
    const expressions = subset.map((name) => `${name}/`);
    let snapshot = await encodeFilterSnapshot(expressions, { fpr: FPR });
    const build = await medianOf(async () => {
      snapshot = await encodeFilterSnapshot(expressions, { fpr: FPR });
    }, BUILD_ROUNDS);
    const label = `${formatNumber(n / 1e6)}M`;
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
    rec.figure(`${label}: whole snapshot artifact`, artifactBytes / n, 'bytes/entry', kib(artifactBytes));
    rec.figure(
      `${label}: of which Bloom filter`,
      bloomBytes / n,
      'bytes/entry',
      `m = ${bloom.size} bits, k = ${bloom.hashCount}`,
    );
    rec.figure(
      `${label}: of which Rice-coded confirmation keys`,
      (snapshot.payload.length - bloomBytes - SNAPSHOT_HEADER_BYTES) / n,
      'bytes/entry',
      `${formatNumber(keys.root.length)} root keys of ${bits.root} bits, ` +
        `${formatNumber(keys.path.length)} path keys of ${bits.path} bits`,
    );

    // A URL is falsely blocked when one of its (at most 5 root and 25 path) expressions passes the Bloom
    // filter AND its key equals a key of its class.
    const bloomFpr = bloomRate(bloom.size, bloom.hashCount, snapshot.entryCount);
    const counts = { root: keys.root.length, path: keys.path.length };
    const falseBlock = falseBlockChance(counts, bloomFpr, bits);
    rec.figure(
      `${label}: false-block chance per URL (union bound)`,
      falseBlock,
      'per URL',
      `5 x Bloom ${bloomFpr.toExponential(2)} x root key match ${(counts.root / 2 ** bits.root).toExponential(2)} ` +
        `+ 25 x Bloom x path key match ${(counts.path / 2 ** bits.path).toExponential(2)}; ` +
        `target < ${FALSE_BLOCK_TARGET.toExponential(0)}`,
    );
    // Per class, n log2(1/e) bits for the false-positive rate e of one expression of that class.
    const classBound = (count: number, width: number) =>
      count === 0 ? 0 : count * Math.log2(1 / (bloomFpr * (count / 2 ** width)));
    const bound = (classBound(counts.root, bits.root) + classBound(counts.path, bits.path)) / n;
    const actual = (artifactBytes * 8) / n;
    rec.figure(
      `${label}: information bound n log2(1/e)`,
      bound / 8,
      'bytes/entry',
      `${bound.toFixed(1)} bits; the snapshot takes ${actual.toFixed(1)} bits, ${(actual / bound).toFixed(2)}x`,
    );

    const gzip = gzipSync(`${subset.join('\n')}\n`, { level: 9 }).length;
    rec.figure(`${label}: gzip -9 of the sorted plain list`, gzip / n, 'bytes/entry', kib(gzip));
    rec.goal(
      `${label} snapshot artifact smaller than gzip -9 of the list`,
      `< ${kib(gzip)}`,
      kib(artifactBytes),
      artifactBytes < gzip,
    );
    if (n === SIZES[0]) {
      snapshot1M = snapshot;
      const keyBytes = snapshot.payload.length - bloomBytes - SNAPSHOT_HEADER_BYTES;
      rec.note(
        `At ${label} the whole artifact is ${Math.abs((100 * artifactBytes) / gzip - 100).toFixed(1)}% ` +
          `${artifactBytes < gzip ? 'smaller' : 'larger'} than gzip -9 of the plain list: the Bloom filter ` +
          `(${formatNumber(bloomBytes / n)} bytes/entry) and the exact keys (${formatNumber(keyBytes / n)} ` +
          `bytes/entry) that take a false block from ${FPR.toExponential(0)} per expression to ` +
          `~${falseBlock.toExponential(0)} per URL. Keys are split by class: a domain entry is a root ` +
          'expression (`host/`), of which a URL looks up at most 5 (against 25 others), so root keys need ' +
          `${bits.root} bits where one key set for all 30 expressions would need ${oneSetBits(n)}. Sorted domain names share ` +
          'long prefixes, which is what gzip feeds on; hashes share nothing.',
      );
    }
    collectGarbage();
  }
  return snapshot1M as NonNullable<typeof snapshot1M>;
}

async function bloomFiltersDefault(names: readonly string[]) {
  const n = SIZES[0] as number;
  const expressions = names.slice(0, n).map((name) => `${name}/`);
  const filter = bloomFilters.BloomFilter.create(n, FPR);
  const add = await measure(() => {
    for (const e of expressions) filter.add(e);
  });
  const json = JSON.stringify(filter.saveAsJSON()).length;
  rec.figure('1M: bloom-filters default, add', add.cpu, 's CPU', `${add.wall.toFixed(1)} s wall`);
  rec.figure(
    '1M: bloom-filters default, saveAsJSON',
    json / n,
    'bytes/entry',
    `${kib(json)}, Bloom filter only, no confirmation`,
  );
  return filter;
}

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
  const few = urls.slice(0, BASELINE_URLS);
  // Copies: keeping lookupExpressions' own arrays alive would make V8 pretenure that allocation site (allocate
  // its arrays in the old generation), after which every URL check of this process promotes its garbage.
  const expressions = few.map((u) => {
    const c = canonicalizeUrl(u);
    return c.ok ? [...lookupExpressions(c.value)] : [];
  });
  const t = await interleavedMedians(
    {
      all: () => check(urls),
      sorted: () => check(sorted),
      ours: () => {
        for (const e of expressions) state.isBlocked(e);
      },
      theirs: () => {
        for (const e of expressions) e.some((x) => filter.has(x));
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
  const lookupOnly = few.length / (t.ours?.cpu as number);
  rec.figure('lookup only: FilterState.isBlocked on precomputed expressions', lookupOnly, 'URLs/s');
  rec.note(
    `Of the ${(1e6 / perUrl).toFixed(2)} us a shuffled URL check costs, the filter lookup itself takes ` +
      `${(1e6 / lookupOnly).toFixed(2)} us (one 128-bit hash per expression, Bloom bits probed until the first ` +
      'zero, about two for a non-member and k = 20 for a hit, then a binary search on a hit); the rest is canonicalization and expression building (bench/canonicalize.ts).',
  );
  rec.figure(
    'lookup only: bloom-filters default `has` on the same expressions',
    few.length / (t.theirs?.cpu as number),
    'URLs/s',
    'no confirmation step',
  );
}

async function deltas(names: readonly string[], bits: KeyWidths, checksum: string, fullListGzip: number) {
  const key = await generateSigningKey();
  const inside = SIZES[0] as number;
  for (const changes of DELTA_SIZES) {
    const half = changes / 2;
    const added = names.slice(inside, inside + half).map((name) => `${name}/`);
    const step = Math.floor(inside / half);
    const removed = Array.from({ length: half }, (_, i) => `${names[i * step]}/`);
    const manifest = {
      kind: 'delta' as const,
      feed: 'filter',
      from: 1,
      to: 2,
      createdAt: 0,
      expiresAt: 1,
      entryCount: inside,
      checksum,
    };
    const filterArtifact = await encodeArtifact(manifest, encodeFilterDelta(added, removed, bits), key);
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

async function main() {
  const missing = missingData(NRD_LIST, PHISHING_URLS);
  if (missing) return rec.skip(missing);
  const names = readLines(NRD_LIST);
  const snapshot = await sizes(names);
  const filter = await bloomFiltersDefault(names);
  collectGarbage();
  await lookups(snapshot.payload, filter, readLines(PHISHING_URLS));
  const fullListGzip = gzipSync(`${names.slice(0, SIZES[0]).join('\n')}\n`, { level: 9 }).length;
  await deltas(names, snapshot.bits, snapshot.checksum, fullListGzip);
  return rec.write();
}

await main();
