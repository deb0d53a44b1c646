/**
 * A health probe beside an operation: `GET /healthz` on a fresh connection every 50 ms, as a load
 * balancer would send it. While the hub's event loop is blocked every probe waits, so the slowest answer
 * is the longest stall; a probe the hub drops counts as a reset. The probe runs in a worker thread of its
 * own, so the benchmark's own work (building a large order, parsing its answer, collecting garbage) does not
 * delay the probes and show up as a stall of the hub. On a shared machine a probe also waits while the hub's
 * main thread waits for a core: each probe reads that thread's scheduler counters (Linux schedstat: time run,
 * time waited on a run queue) before and after, so a stall splits into the loop's own work and the wait.
 */

import { Worker } from 'node:worker_threads';
import { median } from './timing.ts';

export const PROBE_INTERVAL_MS = 50;

export interface StallReport {
  probes: number;
  /** Answer times in ms. */
  p50: number;
  p99: number;
  max: number;
  /** Probes that ended in a reset or any other socket error. */
  resets: number;
  /** The slowest probe's window: ms the hub's main thread ran, and ms it waited for a core (NaN: not Linux). */
  slowest: { ran: number; waited: number };
  /** The most the hub's main thread ran within any one probe's window, in ms. */
  maxRan: number;
}

interface ProbeAnswer {
  ms: number | null;
  ran: number;
  waited: number;
}

/** The worker: probes until told to stop, then posts every answer (ms null: no answer). */
const PROBE_WORKER = `
const { get } = require('node:http');
const { readFileSync } = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const pending = [];
const schedstat = () => {
  try {
    const [ran, waited] = readFileSync(workerData.schedstat, 'utf8').split(' ').map(Number);
    return { ran: ran / 1e6, waited: waited / 1e6 };
  } catch {
    return { ran: NaN, waited: NaN };
  }
};
function probeOnce() {
  const start = performance.now();
  const before = schedstat();
  return new Promise((resolve) => {
    const answer = (ok) => {
      const after = schedstat();
      resolve({ ms: ok ? performance.now() - start : null, ran: after.ran - before.ran, waited: after.waited - before.waited });
    };
    const req = get(workerData.url + '/healthz', { agent: false }, (res) => {
      res.resume();
      res.once('end', () => answer(res.statusCode === 200));
      res.once('error', () => answer(false));
    });
    req.once('error', () => answer(false));
  });
}
const timer = setInterval(() => pending.push(probeOnce()), workerData.intervalMs);
pending.push(probeOnce());
parentPort.once('message', async () => {
  clearInterval(timer);
  parentPort.postMessage(await Promise.all(pending));
});
`;

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;

/**
 * Probes `url` (served by the event loop of process `pid`) until the returned function is called; that resolves
 * once every probe has settled.
 */
export function startProbe(url: string, pid: number): () => Promise<StallReport> {
  const schedstat = `/proc/${pid}/task/${pid}/schedstat`;
  const worker = new Worker(PROBE_WORKER, {
    eval: true,
    workerData: { url, intervalMs: PROBE_INTERVAL_MS, schedstat },
  });
  const answered = new Promise<ProbeAnswer[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return async () => {
    worker.postMessage('stop');
    const answers = await answered;
    await worker.terminate();
    const times = answers.flatMap((a) => (a.ms === null ? [] : [a.ms])).sort((a, b) => a - b);
    const slowest = answers.reduce<ProbeAnswer | null>(
      (worst, a) => (a.ms !== null && (worst?.ms ?? -1) < a.ms ? a : worst),
      null,
    );
    return {
      probes: answers.length,
      p50: median(times),
      p99: percentile(times, 0.99),
      max: times.at(-1) ?? 0,
      resets: answers.length - times.length,
      slowest: { ran: slowest?.ran ?? Number.NaN, waited: slowest?.waited ?? Number.NaN },
      maxRan: Math.max(...answers.map((a) => a.ran)),
    };
  };
}
