/**
 * The compliance probe against a real Unbound holding an RPZ policy zone: names checked per second (each name
 * is two questions, the name and a random sub-domain, as `takedown probe` asks them, each answer classified and
 * signed) and the query rate actually sent, against the configured budget.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderToFile } from '../src/agent/render-to-file.ts';
import { generateSigningKey } from '../src/core/keys.ts';
import type { FeedEntry } from '../src/core/types.ts';
import { type Plan, QUERIES_PER_NAME, runPlan } from '../src/probe/probe-round.ts';
import { TokenBucket } from '../src/probe/token-bucket.ts';
import { resolveRenderOptions } from '../src/render/index.ts';
import { authZoneSnippet, INTERNET_ZONE, missingTools, startUnbound } from './lib/resolvers/unbound.ts';
import { formatNumber, Recorder } from './lib/result.ts';

const BUDGET_QPM = 36_000; // 600 queries/s: 300 names/s at two questions per name
const NAMES = 3_000; // half of them listed; about ten seconds at the budget
const GOAL_NAMES_PER_SECOND = 200;
const TOLERANCE = 0.05;

const rec = new Recorder(
  'probe',
  'Compliance probe',
  `One \`runPlan\` of ${NAMES} domain entries (half listed in the RPZ zone) against a local Unbound, budget ` +
    `${formatNumber(BUDGET_QPM)} queries/min, 64 checks in flight: every answer decoded, classified and Ed25519-signed. ` +
    'The rate is counted from the time each query left the budget; the peak over any one-second window is reported too.',
);

async function main(): Promise<void> {
  const missing = missingTools(['unbound', 'unbound-checkconf'], { requiredInCi: false });
  if (missing) {
    rec.skip(missing);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'bench-probe-'));
  const names = Array.from({ length: NAMES }, (_, i) => `name-${i}.test`);
  const listed: FeedEntry[] = names
    .filter((_, i) => i % 2 === 0)
    .sort()
    .map((name) => ({ expression: `${name}/`, kind: 'domain', category: 'malware', action: 'block' }));
  const rpz = join(dir, 'takedown.rpz');
  await renderToFile(rpz, 'rpz', listed, { version: 1, options: resolveRenderOptions() });
  await writeFile(join(dir, 'test.zone'), INTERNET_ZONE);
  const unbound = await startUnbound(
    [
      'server:\n  module-config: "respip iterator"\n  local-zone: "test." nodefault\n',
      authZoneSnippet('test.', join(dir, 'test.zone')),
      `rpz:\n  name: "rpz.takedown."\n  zonefile: "${rpz}"\n`,
    ],
    { control: false },
  );
  try {
    const plan: Plan = {
      id: 1,
      version: 1,
      canary: { name: 'v1.canary.takedown', version: 1 },
      entries: names.map((name) => ({
        expression: `${name}/`,
        kind: 'domain',
        category: 'malware',
        reason: 'sample',
      })),
    };
    const budget = new TokenBucket(BUDGET_QPM);
    const takes: number[] = [];
    const bucket = {
      take: async () => {
        await budget.take();
        takes.push(performance.now());
      },
    };
    const start = performance.now();
    const results = await runPlan(plan, {
      key: await generateSigningKey(),
      resolvers: [{ isp: 'bench', host: '127.0.0.1', port: unbound.port }],
      proxies: [],
      bucket,
      timeoutMs: 2000,
      walledGarden: new Set(),
      confidential: new Set(['csam']),
      concurrency: 64,
    });
    const seconds = (performance.now() - start) / 1000;
    const wrong = results.filter((r) => {
      if (r.check === 'canary') return r.canaryVersion !== 1;
      const index = Number(/name-(\d+)\./.exec(r.query)?.[1]);
      return r.verdict !== (index % 2 === 0 ? 'blocked' : 'not-blocked');
    }).length;
    const namesPerSecond = rec.figure(
      'names checked',
      NAMES / seconds,
      'names/s',
      `${QUERIES_PER_NAME} queries each`,
    );
    const rate = rec.figure(
      'query rate sent',
      (takes.length / seconds) * 60,
      'queries/min',
      `budget ${BUDGET_QPM}`,
    );
    let peak = 0;
    for (let i = 0, j = 0; i < takes.length; i++) {
      while ((takes[i] as number) - (takes[j] as number) > 1000) j++;
      peak = Math.max(peak, i - j + 1);
    }
    rec.figure('peak over one second', peak * 60, 'queries/min');
    rec.figure('wrong verdicts', wrong, 'results', 'listed names blocked, others not, canary v1');
    rec.goal(
      'names per second against a local Unbound',
      `>= ${GOAL_NAMES_PER_SECOND} names/s`,
      `${formatNumber(namesPerSecond)} names/s`,
      namesPerSecond >= GOAL_NAMES_PER_SECOND,
    );
    rec.goal(
      'query budget honoured',
      `<= ${formatNumber(BUDGET_QPM * (1 + TOLERANCE))} queries/min (budget + 5 %), every one-second window`,
      `${formatNumber(rate)} overall, ${formatNumber(peak * 60)} peak`,
      rate <= BUDGET_QPM * (1 + TOLERANCE) && peak * 60 <= BUDGET_QPM * (1 + TOLERANCE),
    );
    if (wrong > 0) rec.note(`${wrong} results had an unexpected verdict`);
    rec.write();
  } finally {
    await unbound.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
