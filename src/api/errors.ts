import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { errorBody } from '../core/types.ts';

/** One problem with one field of a request: `field` is a dotted path (`targets.3`), `reason` says why. */
export interface FieldProblem {
  field: string;
  reason: string;
  code?: string;
}

/**
 * The single error type of the HTTP edge. The envelope is keyed by `code` (stable, scriptable), not by the
 * status: `{"error": {"code", "message", "details"}}`.
 */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const unprocessable = (code: string, message: string, details?: unknown) =>
  new ApiError(422, code, message, details);

/** Maps anything thrown below a route to the envelope; unknown errors become a 500 without internals. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return c.json(errorBody(err.code, err.message, err.details), err.status);
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    const code = status === 413 ? 'payload_too_large' : status === 401 ? 'unauthorized' : 'bad_request';
    return c.json(errorBody(code, err.message || 'bad request'), status);
  }
  console.error('unhandled error', err);
  return c.json(errorBody('internal', 'internal error'), 500);
}

export function handleNotFound(c: Context): Response {
  return c.json(
    errorBody('route_not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`),
    404,
  );
}
