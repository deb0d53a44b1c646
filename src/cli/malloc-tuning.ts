/**
 * The hub's glibc allocator settings. Worker threads (scans, audits, revokes, orders) each get a malloc arena, and
 * the buffers a scan hands to the event loop stay in that arena: glibc keeps the freed memory around them, so the
 * hub's RSS grew by 100-200 MiB per rebuild at 1M and never came back. Two arenas and a fixed mmap threshold (large
 * blocks mapped on their own, unmapped when freed) keep it down (docs/OPERATIONS.md, docs/DECISIONS.md). glibc
 * reads these variables only when the process starts, so `takedown serve` runs itself again with them set.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export const MALLOC_TUNING: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
};

/**
 * The environment to run the hub again with, or null when it runs as it is: not Linux, or any of the variables
 * already set (by this re-run, or by an operator who chose their own values).
 */
export function tunedEnvironment(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): NodeJS.ProcessEnv | null {
  if (platform !== 'linux') return null;
  if (Object.keys(MALLOC_TUNING).some((name) => env[name] !== undefined)) return null;
  return { ...env, ...MALLOC_TUNING };
}

/**
 * Runs this very command again in a child process with `env`, its output and input shared, SIGINT, SIGTERM and
 * SIGHUP passed on; resolves with the exit code to end with.
 */
export function runAgainWith(env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env,
    stdio: 'inherit',
  });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const pass = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of signals) process.on(signal, pass);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      for (const s of signals) process.off(s, pass);
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
