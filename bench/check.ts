/**
 * `POST /v1/check` with batches of 1000 real URLs against a registry of 1M active entries: in-process through
 * `app.request`, then over HTTP on loopback to `takedown serve` running in its own process.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHubConfig } from '../src/hub/config.ts';
import { createHub } from '../src/hub/hub.ts';
import { cpuSecondsOf, startHubProcess } from './lib/child.ts';
import { missingData, NRD_LIST, PHISHING_URLS, readLines, shownPath, shuffled } from './lib/data.ts';
import { fillRegistry, newToken } from './lib/fill-registry.ts';
import { formatNumber, Recorder } from './lib/result.ts';
import { collectGarbage, cpuNow, median } from './lib/timing.ts';

const ENTRIES = 1_000_000;
const BATCH = 1000;
const BATCHES = 100;
const ROUNDS = 3;
/** One URL in this many is built on a listed domain, so that it is blocked. */
const LISTED_EVERY = 10;
const IN_FLIGHT = 4;
const GOAL = 20_000;

const rec = new Recorder(
  'check',
  'The check endpoint on 1M active entries',
  `${formatNumber(ENTRIES)} names of ${shownPath(NRD_LIST)} imported first (bulk path). ${BATCHES} batches of ` +
    `${BATCH} URLs: real URLs of ${shownPath(PHISHING_URLS)} (seeded shuffle), one in ${LISTED_EVERY} replaced by ` +
    'a URL with a path on a sub-domain of a listed name (blocked). Each batch is one `POST /v1/check` whose ' +
    'JSON answer is parsed and its blocked count verified. In-process: `hub.app.request` on `createHub`. ' +
    'HTTP: `takedown serve` (startHub) as a child process on loopback, client `fetch` (keep-alive) with 1 ' +
    `and ${IN_FLIGHT} requests in flight. One warm-up pass over the batches, then ${ROUNDS} rounds; medians.`,
);

function batches(urls: readonly string[], names: readonly string[]) {
  const real = shuffled(urls.filter((u) => u.length <= 2048));
  const listed = shuffled(names, 7);
  const out: { body: string; blocked: number }[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const targets: string[] = [];
    for (let i = 0; i < BATCH; i++) {
      const at = b * BATCH + i;
      targets.push(
        at % LISTED_EVERY === 0
          ? `https://www.${listed[at]}/login/verify.php?id=${at}`
          : (real[at] as string),
      );
    }
    out.push({ body: JSON.stringify({ targets }), blocked: 0 });
  }
  return out;
}

type Send = (body: string) => Promise<Response>;

/** CPU seconds used so far by the process that answers (null: unknown). */
type CpuClock = () => number | null;

/** One pass over every batch with `inFlight` requests outstanding; checks every answer. */
async function pass(send: Send, work: ReturnType<typeof batches>, inFlight: number, cpu: CpuClock) {
  let next = 0;
  const cpuStart = cpu();
  const start = performance.now();
  const worker = async () => {
    while (next < work.length) {
      const batch = work[next++] as (typeof work)[number];
      const res = await send(batch.body);
      if (res.status !== 200) throw new Error(`check answered ${res.status}: ${await res.text()}`);
      const { results } = (await res.json()) as { results: { blocked: boolean }[] };
      if (results.length !== BATCH) throw new Error(`check answered ${results.length} results for ${BATCH}`);
      batch.blocked = results.filter((r) => r.blocked).length;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const urls = work.length * BATCH;
  const cpuEnd = cpu();
  const cpuUsed = cpuStart === null || cpuEnd === null ? Number.NaN : cpuEnd - cpuStart;
  return { wall: urls / ((performance.now() - start) / 1000), perCpu: urls / cpuUsed };
}

/** Medians over the rounds (after a warm-up pass) of URLs per wall second and per CPU second. */
async function rounds(send: Send, work: ReturnType<typeof batches>, inFlight: number, cpu: CpuClock) {
  await pass(send, work, inFlight, cpu);
  const wall: number[] = [];
  const perCpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    collectGarbage();
    const p = await pass(send, work, inFlight, cpu);
    wall.push(p.wall);
    perCpu.push(p.perCpu);
  }
  return { wall: median(wall), perCpu: median(perCpu) };
}

async function main() {
  const missing = missingData(NRD_LIST, PHISHING_URLS);
  if (missing) return rec.skip(missing);
  const dir = mkdtempSync(join(tmpdir(), 'takedown-bench-check-'));
  try {
    const names = readLines(NRD_LIST, ENTRIES);
    const added = fillRegistry(join(dir, 'takedown.db'), names);
    rec.figure('active entries', added, 'entries');
    const work = batches(readLines(PHISHING_URLS), names);
    const token = newToken();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    // No request log: a line per request would be part of what the benchmark measures.
    const hub = await createHub(loadHubConfig({ dataDir: dir, adminToken: token, port: 0 }), () => {});
    let inProcess: Awaited<ReturnType<typeof rounds>>;
    try {
      const send: Send = (body) =>
        Promise.resolve(hub.app.request('/v1/check', { method: 'POST', headers, body }));
      inProcess = await rounds(send, work, 1, cpuNow);
    } finally {
      await hub.close();
    }
    const blocked = work.reduce((sum, b) => sum + b.blocked, 0);
    rec.figure(
      'URLs blocked per pass',
      blocked,
      `of ${BATCHES * BATCH}`,
      `${(BATCHES * BATCH) / LISTED_EVERY} built on listed names`,
    );
    rec.figure(
      'in-process (app.request), wall clock',
      inProcess.wall,
      'URLs/s',
      'client and hub on one event loop',
    );
    rec.figure(
      'in-process, per CPU second of the process',
      inProcess.perCpu,
      'URLs/s',
      'client work included',
    );

    const server = await startHubProcess(dir, token);
    let serial: Awaited<ReturnType<typeof rounds>>;
    let parallel: Awaited<ReturnType<typeof rounds>>;
    try {
      const send: Send = (body) => fetch(`${server.url}/v1/check`, { method: 'POST', headers, body });
      const hubCpu = () => cpuSecondsOf(server.pid);
      serial = await rounds(send, work, 1, hubCpu);
      parallel = await rounds(send, work, IN_FLIGHT, hubCpu);
    } finally {
      await server.stop();
    }
    rec.figure(
      'HTTP loopback, 1 request in flight, wall clock',
      serial.wall,
      'URLs/s',
      `${formatNumber((BATCH / serial.wall) * 1000)} ms per 1000-URL batch`,
    );
    rec.figure(`HTTP loopback, ${IN_FLIGHT} requests in flight, wall clock`, parallel.wall, 'URLs/s');
    rec.figure(
      `HTTP loopback, ${IN_FLIGHT} in flight, per CPU second of the hub process`,
      parallel.perCpu,
      'URLs/s',
      'what one dedicated core would serve',
    );
    rec.goal(
      'in-process, per CPU second, client work included',
      `>= ${formatNumber(GOAL)} URLs/s`,
      `${formatNumber(inProcess.perCpu)} URLs/s`,
      inProcess.perCpu >= GOAL,
    );
    rec.goal(
      'HTTP, per CPU second of the hub',
      `>= ${formatNumber(GOAL)} URLs/s`,
      `${formatNumber(parallel.perCpu)} URLs/s`,
      parallel.perCpu >= GOAL,
    );
    rec.note(
      'The hub is one Node process with one event loop: URLs per CPU second of it is its throughput on one ' +
        'dedicated core. Wall-clock figures are lower and vary from run to run because the client, the hub and ' +
        "other people's work share 2 cores.",
    );
    return rec.write();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
