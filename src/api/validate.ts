import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
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
 * For JSON bodies, `jsonBody` (json-body.ts) runs first so content type and syntax get their own codes.
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
