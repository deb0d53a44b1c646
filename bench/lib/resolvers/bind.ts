import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig, spawnDaemon } from './daemon.ts';
import { type DnsResponse, findTool, freePort, type QueryType, queryDns } from './unbound.ts';

// A real BIND `named` on 127.0.0.1 for tests: foreground (-g, its log on stderr), one worker thread,
// a random port, everything in a temporary directory that `stop` removes.

export interface NamedConfig {
  /** Port to listen on (a primary may need to know it in advance, to NOTIFY it). Default: a free one. */
  port?: number;
  /** Statements inside `options { }` besides the directory, listen and control ones set here. */
  options?: string;
  /** Top-level clauses after `options`: `key`, `server`, `zone`, ... */
  clauses?: string;
  /** Files to write into the working directory first (zone files), by relative name. */
  files?: Record<string, string>;
  /** named's `-d` debug level; 1 makes it log which transfer (AXFR or IXFR) it requests. Default 0. */
  debugLevel?: number;
  /** How long to wait until named says it is running. Default 20 s. */
  startTimeoutMs?: number;
}

export interface RunningNamed {
  port: number;
  /** Working directory: relative `file` names in zones land here. */
  dir: string;
  configPath: string;
  /** Everything named logged so far (stderr with -g). */
  log(): string;
  /** Resolves with the first log line matching `pattern` (past or future); rejects after `timeoutMs`. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  query(name: string, type?: QueryType): Promise<DnsResponse>;
  stop(): Promise<void>;
}

function config(dir: string, port: number, named: NamedConfig): string {
  return `options {
  directory "${dir}";
  pid-file none;
  session-keyfile "${join(dir, 'session.key')}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  dnssec-validation no;
${named.options ?? ''}
};
controls { };
${named.clauses ?? ''}
`;
}

function matchLine(text: string, pattern: RegExp): string | undefined {
  return text.split('\n').find((line) => pattern.test(line));
}

/**
 * Starts `named -g` with the given configuration on 127.0.0.1:random port after
 * `named-checkconf` accepted it, and waits for its "running" line.
 */
export async function startNamed(named: NamedConfig = {}): Promise<RunningNamed> {
  const dir = await mkdtemp(join(tmpdir(), 'named-'));
  const port = named.port ?? (await freePort());
  const configPath = join(dir, 'named.conf');
  for (const [name, content] of Object.entries(named.files ?? {})) await writeFile(join(dir, name), content);
  const text = config(dir, port, named);
  await writeFile(configPath, text);
  await checkConfig(findTool('named-checkconf') ?? 'named-checkconf', configPath, text, dir, 'stdout');

  const watchers = new Set<() => void>();
  const daemon = spawnDaemon(
    findTool('named') ?? 'named',
    ['-g', '-n', '1', '-d', String(named.debugLevel ?? 0), '-c', configPath],
    () => {
      for (const watcher of watchers) watcher();
    },
  );
  const { child, output } = daemon;

  const waitForLog = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = matchLine(output(), pattern);
        if (line !== undefined) done(() => resolve(line));
        else if (child.exitCode !== null)
          done(() => reject(new Error(`named exited with ${child.exitCode}:\n${output()}`)));
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${output()}`)),
          ),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        watchers.delete(check);
        child.off('exit', check);
        settle();
      };
      watchers.add(check);
      child.on('exit', check);
      check();
    });

  const stop = async () => {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitForLog(/ running$/, named.startTimeoutMs ?? 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    dir,
    configPath,
    log: output,
    waitForLog,
    query: (name, type = 'A') => queryDns(port, name, type),
    stop,
  };
}
