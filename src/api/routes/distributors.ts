import { Hono } from 'hono';
import { type AuthEnv, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { BODY_LIMITS, jsonBody } from '../json-body.ts';
import { unwrap } from '../registry-result.ts';
import { reportBody } from '../schemas.ts';
import { validate } from '../validate.ts';

/**
 * `/v1/distributors`: sync agents report what they applied; regulators see, per distributor, the applied
 * version, how far behind the registry it is (in versions and seconds) and when it last reported.
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
        });
        return c.json({ ...status, registryVersion });
      },
    )
    .get('/', requireRole(authenticate, 'regulator', 'auditor'), (c) =>
      c.json({ version: registry.currentVersion(), distributors: registry.distributorCompliance() }),
    );
}
