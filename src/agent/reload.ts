import { spawn } from 'node:child_process';

const STDERR_DRAIN_MS = 200;

export interface ReloadOptions {
  /** Time allowed to the command before its whole process group is killed. Default 30 s. */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL after a timeout. Default 2 s. */
  killGraceMs?: number;
  /** Bytes of stderr kept for the report (the tail wins). Default 16 KiB. */
  maxStderrBytes?: number;
}

export interface ReloadReport {
  command: string;
  durationMs: number;
  stderr: string;
}

export type ReloadFailureCode = 'reload_failed' | 'reload_timeout' | 'reload_spawn_failed';

/** Why a reload command did not succeed: `stderr` is what the resolver's control tool said. */
export interface ReloadFailure {
  code: ReloadFailureCode;
  message: string;
  command: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  durationMs: number;
}

export type ReloadResult = { ok: true; value: ReloadReport } | { ok: false; error: ReloadFailure };

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * Runs a resolver's reload command (a shell string such as `unbound-control -c FILE reload` or
 * `rndc reload rpz.takedown`). The command runs in its own process group so a timeout kills
 * everything it started, not only the shell. Never throws: failures are typed values.
 */
export function runReload(command: string, options: ReloadOptions = {}): Promise<ReloadResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const killGraceMs = options.killGraceMs ?? 2_000;
  const maxStderr = options.maxStderrBytes ?? 16 * 1024;
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = Buffer.alloc(0);
    let timedOut = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > maxStderr) stderr = stderr.subarray(stderr.length - maxStderr);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), killGraceMs);
      killTimer.unref();
    }, timeoutMs);
    const finish = (result: ReloadResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const failure = (
      code: ReloadFailureCode,
      message: string,
      exitCode: number | null,
      signal: NodeJS.Signals | null,
    ): ReloadResult => ({
      ok: false,
      error: {
        code,
        message,
        command,
        exitCode,
        signal,
        stderr: stderr.toString('utf8').trim(),
        durationMs: performance.now() - started,
      },
    });
    child.on('error', (error) => {
      finish(
        failure(
          'reload_spawn_failed',
          `cannot run reload command "${command}": ${error.message}`,
          null,
          null,
        ),
      );
    });
    const settle = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (timedOut) {
        // The group may still hold a child that ignored SIGTERM; do not wait for the grace period.
        killGroup(child.pid, 'SIGKILL');
        if (killTimer) clearTimeout(killTimer);
        finish(
          failure(
            'reload_timeout',
            `reload command "${command}" timed out after ${timeoutMs} ms`,
            exitCode,
            signal,
          ),
        );
      } else if (exitCode === 0) {
        finish({
          ok: true,
          value: { command, durationMs: performance.now() - started, stderr: stderr.toString('utf8').trim() },
        });
      } else {
        const how = signal ? `was killed by ${signal}` : `exited with status ${exitCode}`;
        finish(failure('reload_failed', `reload command "${command}" ${how}`, exitCode, signal));
      }
    };
    child.on('exit', (exitCode, signal) => {
      if (child.stderr.closed) return settle(exitCode, signal);
      // A daemon started by the command may keep stderr open for ever: read what is left, briefly.
      const drained = setTimeout(() => {
        child.stderr.destroy();
        settle(exitCode, signal);
      }, STDERR_DRAIN_MS);
      child.stderr.once('close', () => {
        clearTimeout(drained);
        settle(exitCode, signal);
      });
    });
  });
}
