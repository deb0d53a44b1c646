/** Clocks and statistics shared by the benchmarks. */

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** A full collection between rounds when node runs with --expose-gc (the runner passes it), else nothing. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** CPU seconds (user + system, all threads) this process has used so far. */
export function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Seconds of one run, or medians of several. */
export interface Timing {
  wall: number;
  cpu: number;
}

/**
 * Wall and CPU seconds taken by `fn` (awaited). On a machine whose cores are shared, wall time includes time
 * spent waiting for a core; the CPU time of a single-threaded computation does not (GC helper threads add a
 * little to it).
 */
export async function measure(fn: () => unknown): Promise<Timing> {
  const cpu = cpuNow();
  const start = performance.now();
  await fn();
  return { wall: (performance.now() - start) / 1000, cpu: cpuNow() - cpu };
}

/** Medians of wall and CPU seconds over timings. */
export const medianTiming = (timings: readonly Timing[]): Timing => ({
  wall: median(timings.map((t) => t.wall)),
  cpu: median(timings.map((t) => t.cpu)),
});

/** Median timing of `rounds` runs of `fn`, with a full GC before each. */
export async function medianOf(fn: () => unknown, rounds: number): Promise<Timing> {
  const timings: Timing[] = [];
  for (let r = 0; r < rounds; r++) {
    collectGarbage();
    timings.push(await measure(fn));
  }
  return medianTiming(timings);
}

/**
 * Runs each named variant once per round, interleaved (a, b, a, b...) so that a noisy neighbour hits every
 * variant alike, after one warm-up pass of each; returns the median timing per variant.
 */
export async function interleavedMedians(
  variants: Record<string, () => unknown>,
  rounds: number,
): Promise<Record<string, Timing>> {
  const timings: Record<string, Timing[]> = {};
  for (const [name, fn] of Object.entries(variants)) {
    timings[name] = [];
    await fn();
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      collectGarbage();
      timings[name]?.push(await measure(fn));
    }
  }
  return Object.fromEntries(Object.entries(timings).map(([name, t]) => [name, medianTiming(t)]));
}

export const MiB = 2 ** 20;
