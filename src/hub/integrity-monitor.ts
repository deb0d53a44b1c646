import { tsWorker, wholeListQueue } from '../util/ts-worker.ts';

// `PRAGMA integrity_check` reads every page and every index of the registry: seconds to minutes on a big
// file, so it runs in a worker thread on a read-only connection (WAL: it reads one snapshot and blocks
// neither requests nor writes), never on the request path.

/**
 * Runs `PRAGMA integrity_check` (or the page-level `quick_check`) on `path` in a worker thread; resolves with
 * the problems found (none: []).
 */
export function integrityCheckInWorker(
  path: string,
  kind: 'quick_check' | 'integrity_check' = 'integrity_check',
): Promise<string[]> {
  const worker = tsWorker(new URL('../registry/integrity-worker.ts', import.meta.url), { path, kind });
  return new Promise((resolve, reject) => {
    worker.once('message', (message: { ok: true; problems: string[] } | { ok: false; message: string }) => {
      if (message.ok) resolve(message.problems);
      else reject(new Error(`integrity check failed to run: ${message.message}`));
    });
    worker.once('error', (error) => reject(new Error(`integrity check failed to run: ${error.message}`)));
    worker.once('exit', (code) => reject(new Error(`integrity check worker exited with code ${code}`)));
  });
}

/**
 * Checks the registry file every `intervalMs` (0: never) and calls `damaged` with the problems of the first
 * failed check; a check that cannot run at all is reported to `error` and retried at the next interval.
 */
export class IntegrityMonitor {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<string[]> | undefined;
  private stopped = false;
  private readonly stopping = new AbortController();

  constructor(
    private readonly path: string,
    private readonly intervalMs: number,
    private readonly damaged: (problems: string[]) => void,
    private readonly error: (error: Error) => void,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.stopped) return;
    this.timer = setTimeout(() => {
      void this.checkNow()
        .catch((e: Error) => {
          if (!this.stopped) this.error(e);
        })
        .finally(() => this.start());
    }, this.intervalMs);
    this.timer.unref();
  }

  /**
   * Runs one check (joining one already running or waiting) once the whole-list task before it is done; reports
   * damage like a scheduled check.
   */
  checkNow(): Promise<string[]> {
    this.running ??= wholeListQueue
      .run(() => integrityCheckInWorker(this.path), 'integrity check', this.stopping.signal)
      .then((problems) => {
        if (problems.length > 0 && !this.stopped) this.damaged(problems);
        return problems;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}
