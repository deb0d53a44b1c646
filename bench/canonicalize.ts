/**
 * Safe Browsing canonicalization plus lookup expressions on 380k real phishing URLs, against `new URL()` on
 * the same strings in the same run: in file order (byte-sorted, so runs of one host) and shuffled.
 */

import { lookupExpressions } from '../src/core/expressions.ts';
import { canonicalizeUrl } from '../src/core/url.ts';
import { missingData, PHISHING_URLS, readLines, shownPath, shuffled } from './lib/data.ts';
import { Recorder } from './lib/result.ts';
import { interleavedMedians } from './lib/timing.ts';

const ROUNDS = 7;
const GOAL_RATIO = 3;

const rec = new Recorder(
  'canonicalize',
  'URL canonicalization and lookup expressions',
  `Every line of ${shownPath(PHISHING_URLS)} through \`canonicalizeUrl\` (src/core/url.ts) then ` +
    '`lookupExpressions` (src/core/expressions.ts), against `new URL()` (in a try/catch) on the same strings. ' +
    `One warm-up pass each, then ${ROUNDS} rounds with the variants interleaved; medians of CPU time (rates are URLs per CPU second). The list is ` +
    "byte-sorted, so consecutive URLs share hosts (the expression code caches the last host's suffixes): the " +
    'same runs on a seeded shuffle show the cost for unordered traffic.',
);

/** Keeps results alive so that no variant's work can be optimized away. */
let sink = 0;

function withNewUrl(urls: readonly string[]) {
  for (const u of urls) {
    try {
      sink += new URL(u).href.length;
    } catch {
      sink++;
    }
  }
}

function canonicalOnly(urls: readonly string[]) {
  for (const u of urls) {
    const c = canonicalizeUrl(u);
    sink += c.ok ? c.value.href.length : 1;
  }
}

function canonicalAndExpressions(urls: readonly string[]) {
  for (const u of urls) {
    const c = canonicalizeUrl(u);
    sink += c.ok ? lookupExpressions(c.value).length : 1;
  }
}

async function main() {
  const missing = missingData(PHISHING_URLS);
  if (missing) return rec.skip(missing);
  const urls = readLines(PHISHING_URLS);
  const mixed = shuffled(urls);
  const n = urls.length;
  rec.figure('URLs', n, 'lines');

  let failed = 0;
  let thrown = 0;
  let expressions = 0;
  for (const u of urls) {
    const c = canonicalizeUrl(u);
    if (c.ok) expressions += lookupExpressions(c.value).length;
    else failed++;
    try {
      new URL(u);
    } catch {
      thrown++;
    }
  }
  rec.figure('lookup expressions per URL', expressions / (n - failed), 'mean');
  rec.figure('refused by canonicalizeUrl', failed, 'URLs');
  rec.figure('thrown by new URL()', thrown, 'URLs');

  const t = await interleavedMedians(
    {
      url: () => withNewUrl(urls),
      canon: () => canonicalOnly(urls),
      full: () => canonicalAndExpressions(urls),
      urlMixed: () => withNewUrl(mixed),
      fullMixed: () => canonicalAndExpressions(mixed),
    },
    ROUNDS,
  );
  const rate = (name: string) => n / (t[name]?.cpu as number);
  rec.figure('baseline: new URL(), file order', rate('url'), 'URLs/s');
  rec.figure('canonicalizeUrl, file order', rate('canon'), 'URLs/s');
  rec.figure('canonicalizeUrl + lookupExpressions, file order', rate('full'), 'URLs/s');
  rec.figure('baseline: new URL(), shuffled', rate('urlMixed'), 'URLs/s');
  rec.figure('canonicalizeUrl + lookupExpressions, shuffled', rate('fullMixed'), 'URLs/s');
  const ratio = rate('url') / rate('full');
  const ratioMixed = rate('urlMixed') / rate('fullMixed');
  const wallRatio = (t.full?.wall as number) / (t.url?.wall as number);
  rec.figure('cost relative to new URL(), file order', ratio, 'x', `${wallRatio.toFixed(2)}x by wall clock`);
  rec.figure('cost relative to new URL(), shuffled', ratioMixed, 'x');
  rec.goal(
    'canonicalize + expressions, file order',
    `<= ${GOAL_RATIO}x new URL()`,
    `${ratio.toFixed(2)}x`,
    ratio <= GOAL_RATIO,
  );
  rec.goal(
    'canonicalize + expressions, shuffled',
    `<= ${GOAL_RATIO}x new URL()`,
    `${ratioMixed.toFixed(2)}x`,
    ratioMixed <= GOAL_RATIO,
  );
  if (sink === 0) rec.note('no work was done');
  return rec.write();
}

await main();
