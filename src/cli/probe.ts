import { sleep } from '../core/sleep.ts';
import { CATEGORIES, type Category } from '../core/types.ts';
import { ProbeHub } from '../probe/probe-hub.ts';
import { loadOrCreateProbeKey } from '../probe/probe-key.ts';
import { QUERIES_PER_NAME, type RoundOptions, runPlan } from '../probe/probe-round.ts';
import { parseTarget } from '../probe/probe-targets.ts';
import { TokenBucket } from '../probe/token-bucket.ts';
import { type Command, parseFlags, UsageError } from './command.ts';

const FLAGS = {
  hub: { type: 'string' },
  token: { type: 'string' },
  key: { type: 'string' },
  resolver: { type: 'string', multiple: true },
  proxy: { type: 'string', multiple: true },
  budget: { type: 'string' },
  timeout: { type: 'string' },
  'walled-garden': { type: 'string', multiple: true },
  'block-page': { type: 'string' },
  confidential: { type: 'string' },
  concurrency: { type: 'string' },
  interval: { type: 'string' },
  once: { type: 'boolean' },
} as const;

function positive(flag: string, value: string | undefined, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag}: "${value}" is not a positive ${integer ? 'integer' : 'number'}`);
  }
  return n;
}

function targets(flag: string, specs: string[] | undefined) {
  try {
    return (specs ?? []).map((spec) => parseTarget(`--${flag}`, spec));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function categories(value: string): Set<Category> {
  const list = value.split(',').filter((c) => c !== '');
  for (const c of list) {
    if (!(CATEGORIES as readonly string[]).includes(c)) {
      throw new UsageError(`--confidential: "${c}" is not one of ${CATEGORIES.join(', ')}`);
    }
  }
  return new Set(list as Category[]);
}

const log = (event: string, fields: Record<string, unknown>) =>
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);

export const probe: Command = {
  name: 'probe',
  summary:
    'compliance probe: check from inside an ISP that ordered names and URLs are blocked, report signed results',
  usage:
    'probe --hub URL --token TOKEN --key FILE --resolver ISP=IP:PORT ... [--proxy ISP=IP:PORT ...]\n' +
    '       [--budget QPM] [--once] [--interval S]\n' +
    "  --key FILE             the probe's Ed25519 key (base64 PKCS8), created (mode 0600) when missing; its public\n" +
    '                         half is pinned to the token at the first contact\n' +
    '  --resolver ISP=IP:PORT a resolver to test (repeatable); ISP labels the results\n' +
    '  --proxy ISP=IP:PORT    an HTTP proxy to test url entries through (repeatable)\n' +
    '  --budget QPM           queries (DNS and HTTP) per minute, never exceeded (default 600)\n' +
    '  --timeout S            per query (default 2)\n' +
    '  --walled-garden IP     an address of a block page: an answer with it counts as blocked (repeatable)\n' +
    "  --block-page TEXT      text that only the ISP's block page contains (HTTP)\n" +
    '  --confidential LIST    categories never requested over HTTP (default csam)\n' +
    '  --concurrency N        checks in flight at once (default 64)\n' +
    '  --interval S           least time between the starts of two rounds (default 60)\n' +
    '  --once                 one round, then exit (0 when the hub stored its results)\n' +
    '  environment: TAKEDOWN_HUB, TAKEDOWN_TOKEN. Logs are JSON lines on stderr.',
  async run(argv) {
    const { values } = parseFlags(argv, FLAGS);
    const hubUrl = values.hub ?? process.env.TAKEDOWN_HUB;
    const token = values.token ?? process.env.TAKEDOWN_TOKEN;
    if (!hubUrl) throw new UsageError('--hub (or TAKEDOWN_HUB) is required');
    if (!token) throw new UsageError('--token (or TAKEDOWN_TOKEN) is required');
    if (!values.key) throw new UsageError('--key FILE is required');
    const resolvers = targets('resolver', values.resolver);
    const proxies = targets('proxy', values.proxy);
    if (resolvers.length + proxies.length === 0)
      throw new UsageError('name at least one --resolver or --proxy');
    const budget = positive('budget', values.budget, 600);
    const intervalMs = positive('interval', values.interval, 60) * 1000;
    const { key, created } = await loadOrCreateProbeKey(values.key);
    const options: RoundOptions = {
      key,
      resolvers,
      proxies,
      bucket: new TokenBucket(budget),
      timeoutMs: positive('timeout', values.timeout, 2) * 1000,
      walledGarden: new Set(values['walled-garden'] ?? []),
      ...(values['block-page'] && { blockPageFingerprint: values['block-page'] }),
      confidential: categories(values.confidential ?? 'csam'),
      concurrency: positive('concurrency', values.concurrency, 64, true),
    };
    const hub = new ProbeHub(hubUrl, token);
    const perEntry = Math.max(QUERIES_PER_NAME * resolvers.length, proxies.length, 1);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await hub.registerKey(key);
      log('started', { hub: hubUrl, probeId: key.id, keyCreated: created, budget, resolvers, proxies });
      while (!stop.signal.aborted) {
        const started = Date.now();
        try {
          const plan = await hub.plan(budget, perEntry);
          const results = await runPlan(plan, { ...options, signal: stop.signal });
          const stored = await hub.post(results);
          const count = (verdict: string) => results.filter((r) => r.verdict === verdict).length;
          log('round', {
            planId: plan.id,
            version: plan.version,
            entries: plan.entries.length,
            stored,
            blocked: count('blocked'),
            notBlocked: count('not-blocked'),
            inconclusive: count('inconclusive'),
            ms: Date.now() - started,
          });
          if (values.once) return 0;
        } catch (error) {
          if (stop.signal.aborted) break;
          log('round_failed', { message: (error as Error).message });
          if (values.once) return 1;
        }
        await sleep(Math.max(0, intervalMs - (Date.now() - started)), stop.signal);
      }
      log('stopped', {});
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
