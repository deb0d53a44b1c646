import { zValidator } from '@hono/zod-validator';
import type { MiddlewareHandler, ValidationTargets } from 'hono';
import type { z } from 'zod';
import { ApiError, type FieldProblem } from './errors.ts';
import { type HandlerMeta, withMeta } from './route-meta.ts';

/** Where a problem is, as clients name it: the body, the query string, the path. */
const PART: Record<string, string> = { json: 'body', query: 'query', param: 'path', header: 'header' };

function problems(issues: readonly z.core.$ZodIssue[], part: string): FieldProblem[] {
  return issues.flatMap((issue): FieldProblem[] => {
    const at = issue.path.join('.');
    if (issue.code === 'unrecognized_keys' && part === 'query') {
      return issue.keys.map((key) => ({
        field: key,
        in: part,
        reason: 'unknown query parameter',
        code: issue.code,
      }));
    }
    const reason =
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message;
    return [{ field: at || `(${part})`, in: part, reason, code: issue.code }];
  });
}

/** 400 `invalid_request` naming each field zod found wrong in one request part (`body`, `query`, `path`). */
export function invalidRequest(issues: readonly z.core.$ZodIssue[], part: string): ApiError {
  const details = problems(issues, part);
  const first = details[0];
  return new ApiError(
    400,
    'invalid_request',
    first ? `${part === 'body' ? '' : `${part} `}${first.field}: ${first.reason}` : 'invalid request',
    details,
  );
}

/**
 * zod validation of one request part with our error envelope: 400 `invalid_request`, one detail per field.
 * For JSON bodies, `jsonBody` (json-body.ts) runs first so content type and syntax get their own codes.
 */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
) {
  const part = PART[target] ?? target;
  const validator = zValidator(target, schema, (result) => {
    if (!result.success) throw invalidRequest(result.error.issues, part);
  });
  return withMeta(validator, {
    request: { part: target as NonNullable<HandlerMeta['request']>['part'], schema },
  });
}

/**
 * Refuses a query string whose percent-escapes are not UTF-8 (400 `invalid_utf8`, naming the parameter):
 * decoding them leniently would store U+FFFD in place of what the client sent.
 */
export const utf8Query: MiddlewareHandler = async (c, next) => {
  const search = new URL(c.req.url).search.slice(1);
  if (search !== '') {
    for (const pair of search.split('&')) {
      const [name = '', value = ''] = pair.split('=', 2);
      for (const part of [name, value]) {
        try {
          decodeURIComponent(part.replace(/\+/g, ' '));
        } catch {
          const field = /%/.test(name) ? '(query)' : name;
          throw new ApiError(
            400,
            'invalid_utf8',
            `query parameter ${field} is not valid UTF-8 once decoded`,
            [{ field, in: 'query', reason: 'percent-escapes that are not UTF-8' }],
          );
        }
      }
    }
  }
  await next();
};
