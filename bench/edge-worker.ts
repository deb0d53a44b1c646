/**
 * The worker bench/edge.ts runs inside workerd: it holds the URLs, the loaded `filter` state and the
 * Ghostery engine in isolate memory and times the work with the isolate's clock (which advances during
 * execution in local workerd). Not part of the edge worker.
 *
 *   POST /urls              body: URLs, one a line
 *   POST /load?key=BASE64   body: a signed snapshot artifact; verifies and loads it, keeps the state
 *   POST /stage             body: a signed snapshot artifact, kept for the next /load?staged=1 (which takes it)
 *   POST /ghostery          body: network filters, one a line; builds the engine, keeps it
 *   GET  /run?mode=M&rounds=N   M = check | parse | ghostery; times N passes over the URLs
 *   POST /drop?what=W       W = state | ghostery; releases it
 *   GET  /noop              lets the inspector's messages run
 */
import { Request as AdblockRequest, FiltersEngine } from '@ghostery/adblocker';
import { createFeedConsumer, type FeedConsumer } from '../src/core/consumer.ts';
import type { FilterState } from '../src/core/filter-state.ts';
import { parsePublicKeys } from '../src/core/keys.ts';
import { verdictOf } from '../workers/edge/verdict.ts';

let urls: string[] = [];
/** An artifact received and not loaded yet: a load from it measures verification and state building alone. */
let staged: Uint8Array | null = null;
let consumer: FeedConsumer<FilterState> | null = null;
let engine: FiltersEngine | null = null;

const json = (value: unknown, status = 200) => Response.json(value, { status });

async function load(request: Request, key: string, fromStage: boolean): Promise<Response> {
  const keys = await parsePublicKeys(key);
  if (!keys.ok) return json(keys.error, 400);
  const bytes = fromStage ? staged : new Uint8Array(await request.arrayBuffer());
  staged = null;
  if (bytes === null) return json({ error: 'nothing staged' }, 409);
  const fresh = createFeedConsumer('filter', keys.value, { maxBytes: 1 << 30 });
  const start = performance.now();
  const applied = await fresh.apply(bytes, Date.now());
  const ms = performance.now() - start;
  if (!applied.ok) return json(applied.error, 422);
  consumer = fresh;
  return json({ ms, version: applied.value.to, entryCount: applied.value.entryCount, bytes: bytes.length });
}

function run(mode: string, rounds: number): Response {
  const state = consumer?.state;
  if (mode === 'check' && !state) return json({ error: 'no state loaded' }, 409);
  if (mode === 'ghostery' && !engine) return json({ error: 'no engine built' }, 409);
  let hits = 0;
  const start = performance.now();
  for (let r = 0; r < rounds; r++) {
    hits = 0;
    for (const url of urls) {
      if (mode === 'check') {
        const v = verdictOf(state as FilterState, url);
        if (v.ok && v.blocked) hits++;
      } else if (mode === 'parse') {
        hits += parses(url);
      } else if (
        (engine as FiltersEngine).match(AdblockRequest.fromRawDetails({ url, type: 'main_frame' })).match
      ) {
        hits++;
      }
    }
  }
  const ms = performance.now() - start;
  return json({ ms, checks: rounds * urls.length, hits });
}

/** 1 when `new URL()` takes the URL (the baseline: the parse alone, no canonicalization, no lookup). */
function parses(url: string): number {
  try {
    return new URL(url).hostname === '' ? 0 : 1;
  } catch {
    return 0;
  }
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const q = url.searchParams;
    switch (url.pathname) {
      case '/urls':
        urls = (await request.text()).split('\n').filter((l) => l !== '');
        return json({ urls: urls.length });
      case '/load':
        return load(request, q.get('key') ?? '', q.get('staged') === '1');
      case '/stage':
        staged = new Uint8Array(await request.arrayBuffer());
        return json({ bytes: staged.length });
      case '/ghostery': {
        const list = await request.text();
        const start = performance.now();
        engine = FiltersEngine.parse(list, { loadCosmeticFilters: false, loadNetworkFilters: true });
        const ms = performance.now() - start;
        return json({ ms, serializedBytes: engine.serialize().length });
      }
      case '/run':
        return run(q.get('mode') ?? 'check', Number(q.get('rounds') ?? 1));
      case '/drop':
        if (q.get('what') === 'state') consumer = null;
        if (q.get('what') === 'ghostery') engine = null;
        return json({ dropped: q.get('what') });
      default:
        return json({ ok: true });
    }
  },
};
