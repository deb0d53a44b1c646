import type { HubClient } from '../../core/hub-client.ts';
import type { CheckpointSummary } from '../../core/log-consistency.ts';
import type { OutputSet } from './output-set.ts';
import type { SyncLog } from './sync-log.ts';
import type { SyncMetrics } from './sync-metrics.ts';

export interface ApplyReporterOptions {
  /** Null when there is no hub to report to (an agent reading a static mirror only). */
  client: Pick<HubClient, 'report'> | null;
  agentId: string;
  feed: string;
  outputs: OutputSet;
  log: SyncLog;
  metrics: SyncMetrics;
  now: () => number;
}

/**
 * Tells the hub which version the agent enforces (the compliance report). A report is pending after
 * every apply or output change and sent when the hub is reachable; a failed send stays pending. An agent
 * reading a mirror without `--hub` sends none, and says so once.
 */
export class ApplyReporter {
  readonly #o: ApplyReporterOptions;
  #pending = false;
  #skipLogged = false;

  constructor(options: ApplyReporterOptions) {
    this.#o = options;
  }

  /** Something the hub should hear about changed. */
  markPending(): void {
    this.#pending = true;
  }

  /**
   * Sends the pending report for `version` and the log checkpoint enforced with it; `fallbackAppliedAt`
   * when no output records a time.
   */
  async send(
    version: number | null,
    fallbackAppliedAt: string | undefined,
    checkpoint?: CheckpointSummary,
  ): Promise<void> {
    const { client, agentId, feed, outputs, log, metrics, now } = this.#o;
    if (!this.#pending || version === null) return;
    if (client === null) {
      if (!this.#skipLogged) log('info', 'reports_skipped', { reason: 'no --hub to report to' });
      this.#skipLogged = true;
      return;
    }
    const appliedAt = outputs.appliedAt(version) ?? fallbackAppliedAt ?? new Date(now()).toISOString();
    const applied = outputs.report(version);
    const report = { agentId, feed, version, appliedAt, outputs: applied, ...(checkpoint && { checkpoint }) };
    const sent = await client.report(report);
    if (sent.kind === 'failed') {
      metrics.report({ result: 'failed' });
      log('warn', 'report_failed', { version, message: sent.message });
      return;
    }
    this.#pending = false;
    metrics.report({ result: 'sent' });
    log('info', 'reported', { version, outputs: applied.filter((o) => o.ok).length });
  }
}
