/**
 * Order-to-enforcement latency through a real resolver: `takedown serve` with 100k listed names, the
 * sync agent long-polling it and rewriting an RPZ file, Unbound loading that file. Each of 20 orders is
 * timed from its POST returning to Unbound answering NXDOMAIN for the ordered name.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderToFile, resolveRenderOptions } from '../src/agent/render/index.ts';
import { authZoneSnippet, missingTools, queryDns, startUnbound } from '../test/helpers/unbound.ts';
import { CLI_MAIN, runNodeMeasured, startHubProcess } from './lib/child.ts';
import { REPO_ROOT } from './lib/data.ts';
import { Recorder } from './lib/result.ts';

const NAMES = 100_000;
const ORDERS = 20;
const GOAL_P95_MS = 2_000;
const ZONE = 'rpz.takedown.';
const INTERNET = '192.0.2.99';

const rec = new Recorder(
  'agent-latency',
  'Order-to-enforcement latency through Unbound',
  `${NAMES.toLocaleString('en-US')} synthetic names (n<i>.bulk.test) imported as one order before the hub starts; ` +
    '`takedown serve` and `takedown sync --feed dns --output rpz=FILE --reload "unbound-control auth_zone_reload ' +
    `${ZONE}"\` (long-poll 30 s) as child processes; Unbound 1.17 on loopback loading FILE as its RPZ zone, the ` +
    `rest of .test answered by a local auth-zone. ${ORDERS} orders of one new name each, one after another: ` +
    'latency = from the `POST /v1/orders` answer to the first NXDOMAIN of the name from Unbound (queried every ' +
    '5 ms over UDP; the name was queried once before the order, so a cached answer exists).',
);

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;

async function main(): Promise<void> {
  const missing = missingTools(['unbound', 'unbound-control', 'unbound-checkconf'], { requiredInCi: false });
  if (missing) {
    rec.skip(missing);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'bench-agent-latency-'));
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    const hubDir = join(dir, 'hub');
    const list = join(dir, 'names.txt');
    await writeFile(list, Array.from({ length: NAMES }, (_, i) => `n${i}.bulk.test\n`).join(''));
    const imported = await runNodeMeasured([
      '--import',
      'tsx',
      CLI_MAIN,
      'import',
      list,
      '--reference',
      'BENCH/BULK',
      '--authority',
      'bench',
      '--category',
      'malware',
      '--data',
      hubDir,
    ]);
    if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr}`);

    const admin = `tdk_${'b'.repeat(43)}`;
    const hub = await startHubProcess(hubDir, admin);
    cleanup.push(hub.stop);
    const call = async (path: string, token: string, json: unknown) => {
      const res = await fetch(`${hub.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(json),
      });
      if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<{ token: string; version: number }>;
    };
    const regulator = (await call('/v1/tokens', admin, { role: 'regulator', name: 'bench-regulator' })).token;
    const distributor = (await call('/v1/tokens', admin, { role: 'distributor', name: 'bench-isp' })).token;

    await mkdir(join(dir, 'out'));
    const rpz = join(dir, 'out', 'takedown.rpz');
    await renderToFile(rpz, 'rpz', [], { version: 0, options: resolveRenderOptions() });
    const internet = join(dir, 'internet.zone');
    await writeFile(
      internet,
      `$TTL 60\n@ SOA localhost. hostmaster.localhost. 1 60 60 604800 60\n@ NS localhost.\n* A ${INTERNET}\n`,
    );
    const unbound = await startUnbound([
      'server:\n  module-config: "respip iterator"\n  local-zone: "test." nodefault\n',
      authZoneSnippet('test.', internet),
      `rpz:\n  name: "${ZONE}"\n  zonefile: "${rpz}"\n`,
    ]);
    cleanup.push(unbound.stop);
    const reload = (unbound.reloadCommand as string).replace(/ reload$/, ` auth_zone_reload ${ZONE}`);

    const started = performance.now();
    const agent = spawnAgent(
      [
        '--hub',
        hub.url,
        '--feed',
        'dns',
        '--key',
        join(hubDir, 'keys', 'signing.pub'),
        '--state',
        join(dir, 'state'),
        '--output',
        `rpz=${rpz}`,
        '--reload',
        reload,
        '--wait',
        '30',
        '--metrics-port',
        '0',
      ],
      distributor,
    );
    cleanup.push(agent.stop);
    await until(
      async () => (await queryDns(unbound.port, 'n12345.bulk.test')).status === 'NXDOMAIN',
      600_000,
    );
    rec.figure(
      'cold start: agent start to the 100k-name list enforced',
      (performance.now() - started) / 1000,
      's',
      'snapshot fetch and verify, state saved, RPZ rendered, zone reloaded',
    );

    const samples: number[] = [];
    for (let i = 0; i < ORDERS; i++) {
      const name = `order-${i}.latency.test`;
      const before = await queryDns(unbound.port, name);
      if (before.status !== 'NOERROR') throw new Error(`${name} answers ${before.status} before its order`);
      await call('/v1/orders', regulator, {
        reference: `BENCH/${i}`,
        authority: 'bench',
        category: 'phishing',
        targets: [name],
      });
      const posted = performance.now();
      await until(async () => (await queryDns(unbound.port, name)).status === 'NXDOMAIN', 60_000, 5);
      samples.push(performance.now() - posted);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p95 = percentile(sorted, 95);
    rec.figure('order to NXDOMAIN, p50', p50, 'ms', `${ORDERS} orders`);
    rec.figure('order to NXDOMAIN, p95', p95, 'ms', `${ORDERS} orders, nearest rank`);
    rec.figure('order to NXDOMAIN, min', sorted[0] as number, 'ms');
    rec.figure('order to NXDOMAIN, max', sorted.at(-1) as number, 'ms');
    rec.goal('order-to-enforcement p95', `< ${GOAL_P95_MS} ms`, `${Math.round(p95)} ms`, p95 < GOAL_P95_MS);

    const events = agent
      .log()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const reloads = events
      .filter(
        (e) => e.event === 'output_applied' && typeof e.reloadMs === 'number' && (e.version as number) > 1,
      )
      .map((e) => e.reloadMs as number)
      .sort((a, b) => a - b);
    if (reloads.length > 0)
      rec.figure('of which Unbound auth_zone_reload, median', percentile(reloads, 50), 'ms');
    const metricsUrl = events.find((e) => e.event === 'metrics_listening')?.url as string | undefined;
    if (metricsUrl) {
      const text = await (await fetch(metricsUrl)).text();
      const total = Number(/^takedown_sync_apply_duration_seconds_total (\S+)$/m.exec(text)?.[1]);
      const deltas = Number(/^takedown_sync_applies_total\{kind="delta"\} (\S+)$/m.exec(text)?.[1]);
      rec.note(
        `agent: ${deltas} deltas applied; apply (verify, save, render, reload) took ${Math.round((total * 1000) / (deltas + 1))} ms on average, the first snapshot included`,
      );
    }
    rec.note(`samples (ms): ${samples.map((s) => Math.round(s)).join(', ')}`);
    rec.write();
  } finally {
    for (const stop of cleanup.reverse()) await stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

function spawnAgent(args: string[], token: string): { log(): string; stop(): Promise<void> } {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'sync', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, TAKEDOWN_TOKEN: token },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk;
  });
  return {
    log: () => log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function until(probe: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

await main();
