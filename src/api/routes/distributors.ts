import { Hono } from 'hono';
import { type AuthEnv, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { BODY_LIMITS, jsonBody } from '../json-body.ts';
import { unwrap } from '../registry-result.ts';
import { reportBody } from '../schemas.ts';
import { validate } from '../validate.ts';

/**
 * `/v1/distributors`: sync agents report what they applied and the log checkpoint they enforce; regulators
 * see, per distributor, the applied version, how far behind the registry it is (in versions and seconds),
 * when it last reported, and every version for which distributors hold different trees (`splitViews`).
 */
export function distributorsRoutes({ registry, authenticate, log }: AppDeps) {
  return new Hono<AuthEnv>()
    .post(
      '/report',
      requireRole(authenticate, 'distributor'),
      jsonBody(BODY_LIMITS.report),
      validate('json', reportBody),
      (c) => {
        const principal = c.get('principal');
        const report = c.req.valid('json');
        const status = unwrap(registry.recordReport(principal.id, report));
        const registryVersion = registry.currentVersion();
        log?.('agent_report', {
          actor: principal.id,
          name: principal.name,
          feed: report.feed,
          version: report.version,
          registryVersion,
          outputsFailed: report.outputs.filter((output) => !output.ok).length,
          ...(status.checkpoint?.matchesHub === false && { checkpointMismatch: status.checkpoint.rootHash }),
        });
        return c.json({ ...status, registryVersion });
      },
    )
    .get('/', requireRole(authenticate, 'regulator', 'auditor'), (c) => {
      const current = registry.currentVersion();
      const now = Date.now();
      const distributors = registry.listDistributors().map((d) => {
        // Seconds behind: since the first version the distributor has not applied was committed.
        const missed = d.version < current ? registry.versionInfo(d.version + 1) : null;
        return {
          ...d,
          lagVersions: Math.max(0, current - d.version),
          lagSeconds: missed ? Math.max(0, Math.round((now - Date.parse(missed.createdAt)) / 1000)) : 0,
          lastContactSeconds: Math.round((now - Date.parse(d.reportedAt)) / 1000),
        };
      });
      return c.json({ version: current, distributors, splitViews: registry.splitViews(distributors) });
    });
}
