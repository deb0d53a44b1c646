import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metrics } from '../../util/prometheus.ts';

/** What the agent's gauges read at scrape time; the agent updates it as it goes. */
export interface SyncStatus {
  /** Applied registry version; null before the first one. */
  version: number | null;
  entries: number;
  /** Hub commit of the last applied version to its outputs being in place (s). */
  lagSeconds: number;
  /** Last time the agent knew it held the hub's latest version (ms since the epoch; 0: never). */
  lastSuccessAt: number;
  /** When the applied state stops being vouched for by its manifest (ms; 0: no state). */
  expiresAt: number;
  /** Duration of the last apply: verify, save, render, reload (s). */
  lastApplySeconds: number;
}

type Counter = ReturnType<Metrics['counter']>;

/** The agent's Prometheus series (names `takedown_sync_*`). */
export class SyncMetrics {
  readonly metrics = new Metrics();
  readonly status: SyncStatus = {
    version: null,
    entries: 0,
    lagSeconds: 0,
    lastSuccessAt: 0,
    expiresAt: 0,
    lastApplySeconds: 0,
  };
  /** Artifacts refused by a verification rule, by `reason` (the rule's code). */
  readonly rejection: Counter;
  /** Requests to the hub that failed, by `reason`. */
  readonly fetchFailure: Counter;
  /** Artifacts applied, by `kind` (snapshot, delta). */
  readonly applied: Counter;
  readonly applySeconds: Counter;
  /** Outputs not applied, by `format` and `code` (render_failed, reload_failed, reload_timeout, ...). */
  readonly outputFailure: Counter;
  /** Compliance reports, by `result` (sent, failed). */
  readonly report: Counter;

  constructor() {
    const m = this.metrics;
    const s = this.status;
    m.gauge(
      'takedown_sync_applied_version',
      'Registry version the outputs enforce (NaN before the first)',
      () => s.version ?? Number.NaN,
    );
    m.gauge('takedown_sync_entries', 'Entries in the applied state', () => s.entries);
    m.gauge(
      'takedown_sync_lag_seconds',
      'Seconds from the hub committing the applied version to its outputs being in place',
      () => s.lagSeconds,
    );
    m.gauge(
      'takedown_sync_last_success_timestamp_seconds',
      'Unix time the agent last knew it held the latest version (0: never)',
      () => s.lastSuccessAt / 1000,
    );
    m.gauge(
      'takedown_sync_state_expires_timestamp_seconds',
      'Unix time the applied state stops being vouched for by its signed manifest',
      () => s.expiresAt / 1000,
    );
    m.gauge('takedown_sync_apply_duration_seconds', 'Duration of the last apply', () => s.lastApplySeconds);
    this.applySeconds = m.counter(
      'takedown_sync_apply_duration_seconds_total',
      'Time spent applying, in total',
    );
    this.applied = m.counter('takedown_sync_applies_total', 'Artifacts applied, by kind');
    this.rejection = m.counter(
      'takedown_sync_rejections_total',
      'Artifacts refused, by the rule that failed',
    );
    this.fetchFailure = m.counter(
      'takedown_sync_fetch_failures_total',
      'Failed requests to the hub, by reason',
    );
    this.outputFailure = m.counter(
      'takedown_sync_output_failures_total',
      'Outputs not applied, by format and code',
    );
    this.report = m.counter('takedown_sync_reports_total', 'Compliance reports, by result');
  }

  render(): string {
    return this.metrics.render();
  }
}

/** Serves `GET /metrics` on `host:port` (port 0: any free one); resolves with the bound port. */
export async function serveMetrics(
  metrics: SyncMetrics,
  host: string,
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.render());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
