import { Hono } from 'hono';
import { z } from 'zod';
import type { IspCompliance } from '../../registry/probe-registry.ts';
import { type AuthEnv, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { validate } from '../validate.ts';

const complianceQuery = z.strictObject({
  hours: z.coerce
    .number()
    .min(1)
    .max(24 * 90)
    .default(24),
});

/** The Prometheus series of the compliance view, one per ISP, read when /metrics is scraped. */
function registerGauges({ registry, metrics }: AppDeps): void {
  const per = (read: (isp: IspCompliance) => Array<[Record<string, string>, number | null]>) => () =>
    registry.probes.compliance().flatMap((isp) =>
      read(isp)
        .filter((pair): pair is [Record<string, string>, number] => pair[1] !== null)
        .map(([labels, value]) => ({ labels: { isp: isp.isp, ...labels }, value })),
    );
  metrics.labelledGauge(
    'takedown_probe_enforced_ratio',
    'Share of sampled active entries observed blocked, per ISP',
    per((isp) => [[{}, isp.enforcedShare]]),
  );
  metrics.labelledGauge(
    'takedown_probe_time_to_block_seconds',
    'Order commit to first observed block, per ISP',
    per((isp) => [
      [{ quantile: '0.5' }, isp.timeToBlock.p50],
      [{ quantile: '0.95' }, isp.timeToBlock.p95],
    ]),
  );
  metrics.labelledGauge(
    'takedown_probe_time_to_unblock_seconds',
    'Revocation to first observed answer, per ISP',
    per((isp) => [
      [{ quantile: '0.5' }, isp.timeToUnblock.p50],
      [{ quantile: '0.95' }, isp.timeToUnblock.p95],
    ]),
  );
  metrics.labelledGauge(
    'takedown_probe_canary_lag_versions',
    "Registry versions between the plan's and the canary answered (absent: no canary answer), per ISP",
    per((isp) => [[{}, isp.canary?.lagVersions ?? null]]),
  );
  metrics.labelledGauge(
    'takedown_probe_compliant',
    '1 when the ISP is compliant, 0 when lagging or non-compliant',
    per((isp) => [[{ status: isp.status }, isp.status === 'compliant' ? 1 : 0]]),
  );
}

/** `/v1/compliance`: what probes observed inside each ISP, for regulators and auditors. */
export function complianceRoutes(deps: AppDeps) {
  registerGauges(deps);
  const { registry, authenticate } = deps;
  return new Hono<AuthEnv>().get(
    '/',
    requireRole(authenticate, 'regulator', 'auditor'),
    validate('query', complianceQuery),
    (c) => {
      const { hours } = c.req.valid('query');
      return c.json({
        version: registry.currentVersion(),
        hours,
        isps: registry.probes.compliance(hours),
      });
    },
  );
}
