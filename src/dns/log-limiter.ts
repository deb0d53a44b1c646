import type { DnsLogEvent } from './responder.ts';

// Anyone can send the primary garbage, refused transfers or connection floods, one log line each:
// unthrottled, a packet flood becomes a disk flood. Events a peer can trigger at will are logged up
// to `burst` per kind per interval; the rest are counted and summed up in one line when the interval
// ends.

/** The kinds of event a remote peer can cause as often as it likes. */
const PEER_DRIVEN: ReadonlySet<DnsLogEvent['event']> = new Set(['malformed', 'refused', 'tsig']);

export interface LogLimit {
  /** Events of one kind logged per interval before the rest are only counted. */
  burst: number;
  intervalMs: number;
}

export const DEFAULT_LOG_LIMIT: LogLimit = { burst: 20, intervalMs: 60_000 };

export interface LimitedLog {
  log(event: DnsLogEvent): void;
  /** Writes the pending summaries now and stops the timer (on close). */
  flush(): void;
}

export function limitLog(log: (event: DnsLogEvent) => void, limit: LogLimit): LimitedLog {
  const logged = new Map<DnsLogEvent['event'], number>();
  const suppressed = new Map<DnsLogEvent['event'], number>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    for (const [kind, count] of suppressed) {
      const seconds = Math.round(limit.intervalMs / 1000);
      log({ event: kind, message: `${count} more ${kind} events in the last ${seconds} s not logged` });
    }
    logged.clear();
    suppressed.clear();
  };

  return {
    log(event) {
      if (!PEER_DRIVEN.has(event.event)) {
        log(event);
        return;
      }
      if (!timer) {
        timer = setTimeout(flush, limit.intervalMs);
        timer.unref();
      }
      const count = logged.get(event.event) ?? 0;
      if (count < limit.burst) {
        logged.set(event.event, count + 1);
        log(event);
      } else {
        suppressed.set(event.event, (suppressed.get(event.event) ?? 0) + 1);
      }
    },
    flush,
  };
}
