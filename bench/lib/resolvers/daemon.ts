import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { promisify } from 'node:util';

// A server program (named, Unbound, dnsmasq, Squid) run in the foreground for a test.

const run = promisify(execFile);

export interface Daemon {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM (SIGKILL 5 s later) and resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * Spawns `program` with its output collected (`onOutput` runs after each chunk); it is killed if the test
 * process exits without stopping it.
 */
export function spawnDaemon(program: string, args: string[], onOutput?: () => void): Daemon {
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    onOutput?.();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    child,
    output: () => output,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Probes `ready` until it holds (pausing `pauseMs` between tries); throws with the daemon's output when the
 * daemon exits first or `timeoutMs` passes.
 */
export async function waitUntilReady(
  daemon: Daemon,
  ready: () => Promise<boolean>,
  timeoutMs: number,
  pauseMs = 0,
): Promise<void> {
  const name = basename(daemon.child.spawnfile);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (daemon.child.exitCode !== null)
      throw new Error(`${name} exited with ${daemon.child.exitCode}:\n${daemon.output()}`);
    if (await ready()) return;
    if (Date.now() > deadline)
      throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${daemon.output()}`);
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

/**
 * Runs a configuration checker (`named-checkconf`, `unbound-checkconf`) on `configPath`. When it refuses the
 * file, removes `dir` and throws with what the checker said on `stream` and the configuration `text`.
 */
export async function checkConfig(
  checker: string,
  configPath: string,
  text: string,
  dir: string,
  stream: 'stdout' | 'stderr',
): Promise<void> {
  try {
    await run(checker, [configPath]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `${basename(checker)} rejected the configuration: ${(error as Record<string, string | undefined>)[stream] ?? error}\n${text}`,
    );
  }
}
