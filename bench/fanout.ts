/**
 * 1000 distributors long-polling `GET /v1/feeds/dns/delta?since=V&wait=30` on loopback: the time from an order's
 * commit (POST /v1/orders returning) until every one of them holds the new delta, and the hub's memory.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HubProcess, memoryOf, startHubProcess } from './lib/child.ts';
import { missingData, NRD_LIST, readLines, shownPath } from './lib/data.ts';
import { fillRegistry, newToken } from './lib/fill-registry.ts';
import { formatNumber, Recorder } from './lib/result.ts';
import { MiB, median } from './lib/timing.ts';

const CLIENTS = 1000;
const ENTRIES = 100_000;
const ROUNDS = 3;
const WAIT_SECONDS = 30;
/** After every request is sent, the hub gets this long to park them all before the order is posted. */
const SETTLE_MS = 1500;
const GOAL_SECONDS = 2;

const rec = new Recorder(
  'fanout',
  'Long-poll fan-out to 1000 distributors',
  `\`takedown serve\` in its own process on a registry of ${formatNumber(ENTRIES)} names of ${shownPath(NRD_LIST)}. ` +
    `${formatNumber(CLIENTS)} clients (node:http, keep-alive agent, maxSockets ${CLIENTS}) each hold one ` +
    `\`GET /v1/feeds/dns/delta?since=V&wait=${WAIT_SECONDS}\` with a distributor token; ${SETTLE_MS} ms after the ` +
    'requests are issued (none may have been answered by then), a regulator posts a one-domain order. Measured: from the moment `POST /v1/orders` ' +
    "returns until each client has read the whole delta (status 200, the new version); the hub's RSS from " +
    `/proc. ${ROUNDS} rounds on the same connections; medians.`,
);

interface Poll {
  /** Resolves with the time the whole answer was read (performance.now()), its status and version. */
  done: Promise<{ at: number; status: number; version: number }>;
  answered: boolean;
}

function longPoll(agent: Agent, url: string, token: string): Poll {
  const poll: Poll = { answered: false, done: Promise.resolve({ at: 0, status: 0, version: 0 }) };
  poll.done = new Promise((resolve, reject) => {
    const req = get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.on('data', () => {});
      res.once('end', () => {
        poll.answered = true;
        resolve({
          at: performance.now(),
          status: res.statusCode ?? 0,
          version: Number(res.headers['x-takedown-version'] ?? NaN),
        });
      });
      res.once('error', reject);
    });
    req.once('error', reject);
  });
  return poll;
}

async function api(hub: HubProcess, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text.startsWith('{') ? JSON.parse(text) : text };
}

/** Waits until the dns feed answers deltas (the hub builds its first snapshots after it starts). */
async function feedsReady(hub: HubProcess, token: string): Promise<string | null> {
  const deadline = performance.now() + 300_000;
  while (performance.now() < deadline) {
    const r = await api(hub, token, 'GET', '/v1/feeds/dns/delta?since=0');
    if (r.status === 404 && r.json?.error?.code !== 'unknown_feed')
      return 'the hub does not serve /v1/feeds (feed routes not mounted by `takedown serve`)';
    if (r.status !== 503) return null;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return 'the dns feed was not ready within 300 s';
}

async function round(
  hub: HubProcess,
  agent: Agent,
  tokens: { distributor: string; regulator: string },
  n: number,
) {
  const since = (await api(hub, tokens.distributor, 'GET', '/healthz')).json.version as number;
  const url = `${hub.url}/v1/feeds/dns/delta?since=${since}&wait=${WAIT_SECONDS}`;
  const polls = Array.from({ length: CLIENTS }, () => longPoll(agent, url, tokens.distributor));
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const early = polls.filter((p) => p.answered).length;
  if (early > 0) throw new Error(`${early} long-polls were answered before the order was posted`);
  const parked = memoryOf(hub.pid);
  const sent = performance.now();
  const order = await api(hub, tokens.regulator, 'POST', '/v1/orders', {
    reference: `BENCH/FANOUT/${n}`,
    authority: 'bench',
    category: 'other',
    targets: [`fanout-${n}-${Date.now()}.example`],
  });
  const committed = performance.now();
  if (order.status !== 201)
    throw new Error(`POST /v1/orders answered ${order.status}: ${JSON.stringify(order.json)}`);
  const answers = await Promise.all(polls.map((p) => p.done));
  const wrong = answers.filter((a) => a.status !== 200 || a.version !== order.json.version).length;
  if (wrong > 0) throw new Error(`${wrong} clients did not get the delta to version ${order.json.version}`);
  const delays = answers.map((a) => (a.at - committed) / 1000).sort((a, b) => a - b);
  return {
    all: delays[delays.length - 1] as number,
    median: median(delays),
    first: delays[0] as number,
    post: (committed - sent) / 1000,
    parkedRss: parked?.rss ?? Number.NaN,
  };
}

async function main() {
  const missing = missingData(NRD_LIST);
  if (missing) return rec.skip(missing);
  const dir = mkdtempSync(join(tmpdir(), 'takedown-bench-fanout-'));
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  let hub: HubProcess | null = null;
  try {
    fillRegistry(join(dir, 'takedown.db'), readLines(NRD_LIST, ENTRIES));
    const admin = newToken();
    hub = await startHubProcess(dir, admin);
    const token = async (role: string) => {
      const r = await api(hub as HubProcess, admin, 'POST', '/v1/tokens', { role, name: `bench ${role}` });
      if (r.status !== 201) throw new Error(`POST /v1/tokens answered ${r.status}`);
      return r.json.token as string;
    };
    const tokens = { distributor: await token('distributor'), regulator: await token('regulator') };
    const notReady = await feedsReady(hub, tokens.distributor);
    if (notReady) return rec.skip(notReady);
    const idle = memoryOf(hub.pid);

    const rounds = [];
    for (let n = 1; n <= ROUNDS; n++) rounds.push(await round(hub, agent, tokens, n));
    const peak = memoryOf(hub.pid);
    const all = median(rounds.map((r) => r.all));
    rec.figure(
      `all ${CLIENTS} clients hold the delta, after the commit`,
      all,
      's',
      `rounds: ${rounds.map((r) => r.all.toFixed(3)).join(', ')} s`,
    );
    rec.figure('half of the clients hold it, after the commit', median(rounds.map((r) => r.median)), 's');
    rec.figure('first client holds it, after the commit', median(rounds.map((r) => r.first)), 's');
    rec.figure('POST /v1/orders round trip (one domain)', median(rounds.map((r) => r.post)), 's');
    const parked = median(rounds.map((r) => r.parkedRss));
    rec.figure(`hub RSS with ${CLIENTS} long-polls parked`, parked / MiB, 'MiB');
    if (idle) {
      rec.figure('hub RSS with its feeds ready, before the clients connect', idle.rss / MiB, 'MiB');
      const perPoll = (parked - idle.rss) / CLIENTS / 1024;
      rec.figure(
        'hub RSS growth per parked long-poll',
        perPoll,
        'KiB',
        'an upper bound: uncollected garbage counts',
      );
    }
    if (peak) rec.figure('hub peak RSS (VmHWM), start-up included', peak.peak / MiB, 'MiB');
    rec.goal(
      `all ${CLIENTS} long-polls answered after a commit`,
      `< ${GOAL_SECONDS} s`,
      `${all.toFixed(3)} s`,
      all < GOAL_SECONDS,
    );
    return rec.write();
  } finally {
    agent.destroy();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
