/** Validation of a regulator's order fields (the targets are screened one by one elsewhere). */

import { ACTIONS, CATEGORIES } from '../core/types.ts';
import { failure, success } from './store.ts';
import type { Order, OrderInput, RegistryResult } from './types.ts';

/** An order's fields once validated (the stored order's own); times are ISO-8601 UTC. */
export type ValidOrder = Pick<
  Order,
  'reference' | 'authority' | 'category' | 'action' | 'reason' | 'issuedAt' | 'expiresAt'
> & { override: { reason: string } | null };

const MAX_NAME = 200;
const MAX_TEXT = 4000;
/** Years 0..9999 keep ISO strings fixed-width, so they sort and compare as text. */
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A Date or date string as ISO-8601 UTC, or null when it is not a valid time. */
export function toIsoTime(value: unknown): string | null {
  const d = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
  if (d === null) return null;
  const t = d.getTime();
  if (Number.isNaN(t) || t < 0 || t > MAX_TIME) return null;
  return d.toISOString();
}

function text(value: unknown, field: string, max: number): RegistryResult<string> {
  if (typeof value !== 'string' || value.trim() === '') {
    return failure('invalid_input', `${field} must be a non-empty string`);
  }
  if (value.length > max) return failure('invalid_input', `${field} is longer than ${max} characters`);
  return success(value.trim());
}

/** Validates everything but `targets`; `now` is the registry clock (an expiry must lie after it). */
export function validateOrder(input: Omit<OrderInput, 'targets'>, now: Date): RegistryResult<ValidOrder> {
  const reference = text(input.reference, 'reference', MAX_NAME);
  if (!reference.ok) return reference;
  const authority = text(input.authority, 'authority', MAX_NAME);
  if (!authority.ok) return authority;
  if (!(CATEGORIES as readonly unknown[]).includes(input.category)) {
    return failure(
      'invalid_input',
      `category '${String(input.category)}' is not one of ${CATEGORIES.join(', ')}`,
    );
  }
  const action = input.action ?? 'block';
  if (!(ACTIONS as readonly unknown[]).includes(action)) {
    return failure('invalid_input', `action '${String(action)}' is not one of ${ACTIONS.join(', ')}`);
  }
  let reason: string | null = null;
  if (input.reason !== undefined && input.reason !== null && input.reason !== '') {
    const r = text(input.reason, 'reason', MAX_TEXT);
    if (!r.ok) return r;
    reason = r.value;
  }
  const issuedAt = input.issuedAt === undefined ? now.toISOString() : toIsoTime(input.issuedAt);
  if (issuedAt === null)
    return failure('invalid_input', `issuedAt '${String(input.issuedAt)}' is not a valid time`);
  let expiresAt: string | null = null;
  if (input.expiresAt !== undefined && input.expiresAt !== null) {
    expiresAt = toIsoTime(input.expiresAt);
    if (expiresAt === null) {
      return failure('invalid_input', `expiresAt '${String(input.expiresAt)}' is not a valid time`);
    }
    if (expiresAt <= now.toISOString())
      return failure('invalid_input', `expiresAt ${expiresAt} is not in the future`);
  }
  let override: { reason: string } | null = null;
  if (input.override !== undefined && input.override !== null) {
    const r = text(input.override.reason, 'override.reason', MAX_TEXT);
    if (!r.ok) return r;
    override = { reason: r.value };
  }
  return success({
    reference: reference.value,
    authority: authority.value,
    category: input.category,
    action,
    reason,
    issuedAt,
    expiresAt,
    override,
  });
}
