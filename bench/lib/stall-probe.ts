/**
 * A health probe beside an operation: `GET /healthz` on a fresh connection every 50 ms, as a load
 * balancer would send it. While the hub's event loop is blocked every probe waits, so the slowest answer
 * is the longest stall; a probe the hub drops counts as a reset.
 */

import { get } from 'node:http';
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

function probeOnce(url: string): Promise<number | null> {
  const start = performance.now();
  return new Promise((resolve) => {
    const req = get(`${url}/healthz`, { agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode === 200 ? performance.now() - start : null));
      res.once('error', () => resolve(null));
    });
    req.once('error', () => resolve(null));
  });
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;

/** Probes `url` until the returned function is called; that resolves once every probe has settled. */
export function startProbe(url: string): () => Promise<StallReport> {
  const pending: Promise<number | null>[] = [];
  const timer = setInterval(() => pending.push(probeOnce(url)), PROBE_INTERVAL_MS);
  pending.push(probeOnce(url));
  return async () => {
    clearInterval(timer);
    const answers = await Promise.all(pending);
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
