import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { errorBody } from '../core/types.ts';

/** Seconds a client waits before retrying a write the registry was too busy for. */
export const RETRY_AFTER_SECONDS = 5;

/** One problem with one field of a request: `field` is a dotted path (`targets.3`), `reason` says why. */
export interface FieldProblem {
  field: string;
  /** `body`, `query` or `path`. */
  in?: string;
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
    /** Headers the error response carries (e.g. `Retry-After`). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const unprocessable = (code: string, message: string, details?: unknown) =>
  new ApiError(422, code, message, details);

/** Maps anything thrown below a route to the envelope; unknown errors become a 500 without internals. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) {
    return c.json(errorBody(err.code, err.message, err.details), err.status, err.headers);
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    const code = status === 413 ? 'payload_too_large' : status === 401 ? 'unauthorized' : 'bad_request';
    return c.json(errorBody(code, err.message || 'bad request'), status);
  }
  // A write outside the registry's own mapping (a best-effort one) that met a full disk or a held lock.
  const sqlite = (err as { code?: unknown }).code;
  if (sqlite === 'SQLITE_FULL') {
    return c.json(errorBody('storage_full', 'the registry storage is full; nothing was written'), 507);
  }
  if (sqlite === 'SQLITE_BUSY') {
    return c.json(errorBody('import_in_progress', 'the registry is busy; retry later'), 503, {
      'retry-after': String(RETRY_AFTER_SECONDS),
    });
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
