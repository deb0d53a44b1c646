/**
 * A health probe beside an operation: `GET /healthz` on a fresh connection every 50 ms, as a load
 * balancer would send it. While the hub's event loop is blocked every probe waits, so the slowest answer
 * is the longest stall; a probe the hub drops counts as a reset. The probe runs in a worker thread of its
 * own, so the benchmark's own work (building a large order, parsing its answer, collecting garbage) does not
 * delay the probes and show up as a stall of the hub.
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
}

/** The worker: probes until told to stop, then posts every answer time (null: no answer). */
const PROBE_WORKER = `
const { get } = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const pending = [];
function probeOnce() {
  const start = performance.now();
  return new Promise((resolve) => {
    const req = get(workerData.url + '/healthz', { agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode === 200 ? performance.now() - start : null));
      res.once('error', () => resolve(null));
    });
    req.once('error', () => resolve(null));
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

/** Probes `url` until the returned function is called; that resolves once every probe has settled. */
export function startProbe(url: string): () => Promise<StallReport> {
  const worker = new Worker(PROBE_WORKER, { eval: true, workerData: { url, intervalMs: PROBE_INTERVAL_MS } });
  const answered = new Promise<(number | null)[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return async () => {
    worker.postMessage('stop');
    const answers = await answered;
    await worker.terminate();
    const times = answers.filter((t): t is number => t !== null).sort((a, b) => a - b);
    return {
      probes: answers.length,
      p50: median(times),
      p99: percentile(times, 0.99),
      max: times.at(-1) ?? 0,
      resets: answers.length - times.length,
    };
  };
}
