/**
 * Releases expired orders without a restart: sleeps until the registry's next expiry (re-armed after every
 * write, since a new order may expire sooner), then sweeps. Timers are capped because setTimeout overflows
 * past ~24.8 days.
 */
const MAX_SLEEP_MS = 60 * 60 * 1000;

export interface ExpirySource {
  nextExpiry(): Date | null;
  expireDue(now: Date): { version: number } | null;
}

export class ExpiryTimer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly registry: ExpirySource,
    private readonly committed: (version: number) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** (Re-)arms the timer for the earliest pending expiry. */
  arm(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const next = this.registry.nextExpiry();
    if (next === null) return;
    const wait = Math.min(Math.max(0, next.getTime() - this.now().getTime()), MAX_SLEEP_MS);
    this.timer = setTimeout(() => this.sweep(), wait);
    this.timer.unref();
  }

  sweep(): void {
    try {
      const outcome = this.registry.expireDue(this.now());
      if (outcome !== null) this.committed(outcome.version);
    } catch (err) {
      console.error('expiry sweep failed; retrying in 10 s:', (err as Error).message);
      this.timer = setTimeout(() => this.sweep(), 10_000);
      this.timer.unref();
      return;
    }
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
