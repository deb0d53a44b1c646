/**
 * Releases expired orders without a restart: sleeps until the registry's next expiry (re-armed after every
 * write, since a new order may expire sooner), then sweeps. Timers are capped because setTimeout overflows
 * past ~24.8 days. A sweep may run in a worker thread (it can end millions of entries): one at a time.
 */
const MAX_SLEEP_MS = 60 * 60 * 1000;

export interface ExpirySource {
  nextExpiry(): Date | null;
  expireDue(now: Date): { version: number } | null | Promise<{ version: number } | null>;
}

export class ExpiryTimer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private sweeping: Promise<void> | null = null;

  constructor(
    private readonly registry: ExpirySource,
    private readonly committed: (version: number) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** (Re-)arms the timer for the earliest pending expiry; a sweep in progress re-arms when it ends. */
  arm(): void {
    if (this.stopped || this.sweeping) return;
    clearTimeout(this.timer);
    const next = this.registry.nextExpiry();
    if (next === null) return;
    const wait = Math.min(Math.max(0, next.getTime() - this.now().getTime()), MAX_SLEEP_MS);
    this.timer = setTimeout(() => void this.sweep(), wait);
    this.timer.unref();
  }

  /** Expires what is due now; settles when the sweep (and the commit notice) is done. */
  sweep(): Promise<void> {
    this.sweeping ??= this.#expire().then((outcome) => {
      this.sweeping = null;
      if (this.stopped || outcome === 'failed') return;
      // The commit notice re-arms the timer through the hub's listeners.
      if (outcome === null) this.arm();
      else this.committed(outcome.version);
    });
    return this.sweeping;
  }

  async #expire(): Promise<{ version: number } | null | 'failed'> {
    try {
      return await this.registry.expireDue(this.now());
    } catch (err) {
      if (this.stopped) return 'failed';
      console.error('expiry sweep failed; retrying in 10 s:', (err as Error).message);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.sweep(), 10_000);
      this.timer.unref();
      return 'failed';
    }
  }

  /** Stops the timer; resolves once a sweep in progress has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sweeping;
  }
}
