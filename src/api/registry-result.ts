import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { RegistryErrorCode, RegistryResult } from '../registry/types.ts';
import { ApiError, RETRY_AFTER_SECONDS } from './errors.ts';

const STATUS: Record<RegistryErrorCode, ContentfulStatusCode> = {
  invalid_input: 422,
  targets_rejected: 422,
  not_found: 404,
  conflict: 409,
  approval_expired: 409,
  self_approval: 403,
  bad_cursor: 400,
  import_in_progress: 503,
  registry_corrupt: 503,
  storage_full: 507,
};

/** The value of a registry result, or the matching ApiError (registry codes pass through unchanged). */
export function unwrap<T>(result: RegistryResult<T>): T {
  if (result.ok) return result.value;
  const { code, message, details } = result.error;
  const headers = code === 'import_in_progress' ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : undefined;
  throw new ApiError(STATUS[code], code, message, details, headers);
}
