/** Child processes the benchmarks run and measure: the `takedown` CLI, the hub as a server. */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MALLOC_TUNING } from '../../src/cli/malloc-tuning.ts';
import { REPO_ROOT } from './data.ts';

export const CLI_MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');
const GNU_TIME = '/usr/bin/time';

/** Current and peak resident set size of a live process in bytes (Linux /proc), or null when unknown. */
export function memoryOf(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const rss = kib('VmRSS');
    const peak = kib('VmHWM');
    return Number.isNaN(rss) || Number.isNaN(peak) ? null : { rss: rss * 1024, peak: peak * 1024 };
  } catch {
    return null;
  }
}

/**
 * CPU seconds (user + system, every thread) a live process has used so far, from /proc/PID/stat; null when
 * unknown. Clock ticks are taken as 100 per second, the Linux USER_HZ on every common architecture.
 */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesized command name, which may itself hold spaces: utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

export interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** Peak resident set size in bytes; null when it could not be read. */
  peakRss: number | null;
  /** How the peak was read. */
  peakRssSource: 'GNU time -v' | '/proc VmHWM, polled every 20 ms' | 'none';
}

/**
 * Runs `node --import tsx ARGS` to completion and measures wall time and peak RSS: with GNU `time -v` when
 * it is installed (exact), else by polling the child's VmHWM (may miss a peak in its last 20 ms).
 */
export function runNodeMeasured(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<MeasuredRun> {
  const node = [process.execPath, '--import', 'tsx', ...args];
  const timed = existsSync(GNU_TIME);
  const [command, ...rest] = timed ? [GNU_TIME, '-v', ...node] : node;
  const start = performance.now();
  const child = spawn(command as string, rest, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  let polled: number | null = null;
  const poll = timed
    ? undefined
    : setInterval(() => {
        const m = child.pid === undefined ? null : memoryOf(child.pid);
        if (m) polled = Math.max(polled ?? 0, m.peak);
      }, 20);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearInterval(poll);
      const seconds = (performance.now() - start) / 1000;
      const kib = timed ? /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] : undefined;
      const peakRss = kib === undefined ? polled : Number(kib) * 1024;
      const peakRssSource =
        timed && kib !== undefined
          ? 'GNU time -v'
          : polled !== null
            ? '/proc VmHWM, polled every 20 ms'
            : 'none';
      resolve({ code, stdout, stderr, seconds, peakRss, peakRssSource });
    });
  });
}

/** A hub started as `takedown serve` in its own process, so it has its own event loop (and core). */
export interface HubProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `takedown serve --port 0 --data DIR` and resolves once it prints the address it listens on. */
export function startHubProcess(
  dataDir: string,
  adminToken: string,
  timeoutMs = 600_000,
): Promise<HubProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI_MAIN, 'serve', '--port', '0', '--data', dataDir],
    {
      cwd: REPO_ROOT,
      // With the allocator settings `serve` would set by running itself again: the pid measured is the hub's.
      env: { ...MALLOC_TUNING, ...process.env, TAKEDOWN_ADMIN_TOKEN: adminToken },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`hub did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const listen = (d: Buffer) => {
      output += d;
      const url = /takedown hub listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url && child.pid !== undefined) {
        clearTimeout(timer);
        child.stdout?.off('data', listen);
        child.stdout?.resume();
        resolve({ url, pid: child.pid, child, stop });
      }
    };
    child.stdout.on('data', listen);
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before listening:\n${output}`));
    });
  });
}
