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
      const distributors = registry.distributorCompliance();
      return c.json({
        version: registry.currentVersion(),
        distributors,
        splitViews: registry.splitViews(distributors),
      });
    });
}
