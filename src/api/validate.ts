import { zValidator } from '@hono/zod-validator';
import type { MiddlewareHandler, ValidationTargets } from 'hono';
import type { z } from 'zod';
import { ApiError, type FieldProblem } from './errors.ts';

function problems(issues: readonly z.core.$ZodIssue[]): FieldProblem[] {
  return issues.map((issue) => ({
    field: issue.path.length ? issue.path.join('.') : '(body)',
    reason: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
    code: issue.code,
  }));
}

/**
 * zod validation of one request part with our error envelope: 400 `invalid_request`, one detail per field.
 * For JSON bodies, `jsonBody` below runs first so content type and syntax get their own codes.
 */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
) {
  return zValidator(target, schema, (result) => {
    if (!result.success) {
      const details = problems(result.error.issues);
      const first = details[0];
      throw new ApiError(
        400,
        'invalid_request',
        first ? `${first.field}: ${first.reason}` : 'invalid request',
        details,
      );
    }
  });
}

/** Refuses a body that is not `application/json` (415) or not parseable JSON (400) before validation. */
export const jsonBody: MiddlewareHandler = async (c, next) => {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', `content-type must be application/json, got "${type}"`);
  }
  try {
    await c.req.json();
  } catch {
    throw new ApiError(400, 'malformed_json', 'request body is not valid JSON');
  }
  await next();
};
