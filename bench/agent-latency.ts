/**
 * Order-to-enforcement latency through a real resolver: `takedown serve` with 100k listed names, the
 * sync agent long-polling it, Unbound enforcing what the agent applied. Each of 20 orders is timed from
 * its POST returning to Unbound answering NXDOMAIN for the ordered name. Two ways for Unbound to get
 * the list: the agent's RPZ file (re-rendered and reloaded per version; the figure), and the
 * agent serving the zone itself (`--serve-rpz`, IXFR after NOTIFY) for comparison.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderToFile } from '../src/agent/render-to-file.ts';
import { resolveRenderOptions } from '../src/render/index.ts';
import { CLI_MAIN, runNodeMeasured, startHubProcess } from './lib/child.ts';
import { REPO_ROOT } from './lib/data.ts';
import {
  authZoneSnippet,
  freePort,
  missingTools,
  queryDns,
  type RunningUnbound,
  startUnbound,
} from './lib/resolvers/unbound.ts';
import { Recorder } from './lib/result.ts';

const NAMES = 100_000;
const ORDERS = 20;
const GOAL_P95_MS = 2_000;
const ZONE = 'rpz.takedown.';
const INTERNET = '192.0.2.99';

const rec = new Recorder(
  'agent-latency',
  'Order-to-enforcement latency through Unbound',
  `${NAMES.toLocaleString('en-US')} synthetic names (n<i>.bulk.test) imported as one order before the hub ` +
    'starts; `takedown serve` and `takedown sync --feed dns --wait 30` as child processes; Unbound 1.17 on ' +
    'loopback, the rest of .test answered by a local auth-zone. (1) file: the agent writes --output rpz=FILE ' +
    `and runs \`unbound-control auth_zone_reload ${ZONE}\`, Unbound loads FILE as its RPZ zone. (2) transfer: ` +
    'the agent serves the zone (--serve-rpz, --notify Unbound), Unbound is its RPZ secondary. Per way, ' +
    `${ORDERS} orders of one new name each, one after another: latency = from the \`POST /v1/orders\` answer ` +
    'to the first NXDOMAIN for the name from Unbound (queried every 5 ms over UDP; the name was queried once ' +
    'before its order). Percentiles by nearest rank.',
);

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;

interface Hub {
  url: string;
  keyFile: string;
  order(name: string): Promise<void>;
  distributor: string;
}

async function main(): Promise<void> {
  const missing = missingTools(['unbound', 'unbound-control', 'unbound-checkconf'], { requiredInCi: false });
  if (missing) {
    rec.skip(missing);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'bench-agent-latency-'));
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    const hub = await startHub(dir, cleanup);
    const internet = join(dir, 'internet.zone');
    await writeFile(
      internet,
      `$TTL 60\n@ SOA localhost. hostmaster.localhost. 1 60 60 604800 60\n@ NS localhost.\n* A ${INTERNET}\n`,
    );
    const base = [
      'server:\n  module-config: "respip iterator"\n  local-zone: "test." nodefault\n',
      authZoneSnippet('test.', internet),
    ];

    // (1) The RPZ file, reloaded.
    await mkdir(join(dir, 'out'));
    const rpz = join(dir, 'out', 'takedown.rpz');
    await renderToFile(rpz, 'rpz', [], { version: 0, options: resolveRenderOptions() });
    const fileUnbound = await startUnbound([...base, `rpz:\n  name: "${ZONE}"\n  zonefile: "${rpz}"\n`]);
    cleanup.push(fileUnbound.stop);
    const reload = (fileUnbound.reloadCommand as string).replace(/ reload$/, ` auth_zone_reload ${ZONE}`);
    const fileAgent = spawnAgent(hub, join(dir, 'state-file'), [
      '--output',
      `rpz=${rpz}`,
      '--reload',
      reload,
    ]);
    cleanup.push(fileAgent.stop);
    await measure('file', hub, fileUnbound, fileAgent);
    const events = fileAgent
      .events()
      .filter((e) => e.event === 'output_applied' && (e.version as number) > 1);
    const reloads = events.map((e) => e.reloadMs as number).sort((a, b) => a - b);
    const renders = events.map((e) => (e.ms as number) - (e.reloadMs as number)).sort((a, b) => a - b);
    rec.figure('file: of which rendering the RPZ file, median', percentile(renders, 50), 'ms', 'agent log');
    rec.figure('file: of which auth_zone_reload, median', percentile(reloads, 50), 'ms', 'agent log');
    await fileAgent.stop();
    await fileUnbound.stop();

    // (2) The zone served by the agent, transferred incrementally.
    const primaryPort = await freePort();
    const xfrUnbound = await startUnbound(
      [...base, `rpz:\n  name: "${ZONE}"\n  primary: 127.0.0.1@${primaryPort}\n  allow-notify: 127.0.0.1\n`],
      { control: false },
    );
    cleanup.push(xfrUnbound.stop);
    const xfrAgent = spawnAgent(hub, join(dir, 'state-xfr'), [
      '--serve-rpz',
      `127.0.0.1:${primaryPort}`,
      '--notify',
      `127.0.0.1:${xfrUnbound.port}`,
    ]);
    cleanup.push(xfrAgent.stop);
    await measure('transfer', hub, xfrUnbound, xfrAgent);
    rec.write();
  } finally {
    for (const stop of cleanup.reverse()) await stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Imports the names, starts the hub, makes a regulator and a distributor token. */
async function startHub(dir: string, cleanup: Array<() => Promise<unknown>>): Promise<Hub> {
  const hubDir = join(dir, 'hub');
  const list = join(dir, 'names.txt');
  await writeFile(list, Array.from({ length: NAMES }, (_, i) => `n${i}.bulk.test\n`).join(''));
  const imported = await runNodeMeasured([
    ...['--import', 'tsx', CLI_MAIN, 'import', list, '--reference', 'BENCH/BULK', '--authority', 'bench'],
    ...['--category', 'malware', '--data', hubDir],
  ]);
  if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr}`);
  const admin = `tdk_${'b'.repeat(43)}`;
  const hub = await startHubProcess(hubDir, admin);
  cleanup.push(hub.stop);
  const post = async (path: string, token: string, json: unknown) => {
    const res = await fetch(`${hub.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(json),
    });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<{ token: string }>;
  };
  const regulator = (await post('/v1/tokens', admin, { role: 'regulator', name: 'bench-regulator' })).token;
  const distributor = (await post('/v1/tokens', admin, { role: 'distributor', name: 'bench-isp' })).token;
  let orders = 0;
  return {
    url: hub.url,
    keyFile: join(hubDir, 'keys', 'signing.pub'),
    distributor,
    async order(name) {
      await post('/v1/orders', regulator, {
        reference: `BENCH/${++orders}`,
        authority: 'bench',
        category: 'phishing',
        targets: [name],
      });
    },
  };
}

/** Cold start to the whole list enforced, then ORDERS orders timed to NXDOMAIN. */
async function measure(way: string, hub: Hub, unbound: RunningUnbound, agent: Agent): Promise<void> {
  await until(async () => (await queryDns(unbound.port, 'n12345.bulk.test')).status === 'NXDOMAIN', 600_000);
  rec.figure(
    `${way}: agent start to the 100k-name list enforced`,
    (performance.now() - agent.started) / 1000,
    's',
  );
  const samples: number[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const name = `${way}-${i}.latency.test`;
    const before = await queryDns(unbound.port, name);
    if (before.status !== 'NOERROR') throw new Error(`${name} answers ${before.status} before its order`);
    await hub.order(name);
    const posted = performance.now();
    await until(async () => (await queryDns(unbound.port, name)).status === 'NXDOMAIN', 60_000, 5);
    samples.push(performance.now() - posted);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const p95 = percentile(sorted, 95);
  rec.figure(`${way}: order to NXDOMAIN, p50`, percentile(sorted, 50), 'ms', `${ORDERS} orders`);
  rec.figure(`${way}: order to NXDOMAIN, p95`, p95, 'ms', `${ORDERS} orders`);
  rec.figure(`${way}: order to NXDOMAIN, max`, sorted.at(-1) as number, 'ms');
  rec.goal(
    `${way}: order-to-enforcement p95`,
    `< ${GOAL_P95_MS} ms`,
    `${Math.round(p95)} ms`,
    p95 < GOAL_P95_MS,
  );
  rec.note(`${way}: samples (ms) ${samples.map((s) => Math.round(s)).join(', ')}`);
}

interface Agent {
  started: number;
  events(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

function spawnAgent(hub: Hub, state: string, args: string[]): Agent {
  const started = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', CLI_MAIN, 'sync', '--hub', hub.url, '--feed', 'dns', '--key', hub.keyFile],
      ...['--state', state, '--wait', '30', ...args],
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, TAKEDOWN_TOKEN: hub.distributor },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk;
  });
  return {
    started,
    events: () =>
      log
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
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
