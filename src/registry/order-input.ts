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
/** Longest legal reason of an order. */
export const MAX_ORDER_REASON = 4000;
/** Longest reason of a decision: an override, a revocation, an approval, a release. */
export const MAX_DECISION_REASON = 2000;
/** Years 0..9999 keep ISO strings fixed-width, so they sort and compare as text. */
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The time zone a bare date (`YYYY-MM-DD`) is read in when none is configured. */
export const DEFAULT_TIME_ZONE = 'Asia/Ho_Chi_Minh';

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** Milliseconds `timeZone` is ahead of UTC at instant `t`. */
function zoneOffset(t: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(t));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const local = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return local - Math.floor(t / 1000) * 1000;
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The first or last millisecond of a calendar day in `timeZone`: an order "until 2026-05-31" holds all of that
 * day where it was issued, one "issued 2026-05-01" counts from the start of it. The offset is looked up twice
 * so a day that starts or ends across a daylight-saving change is still right.
 */
function dayEdge(year: number, month: number, day: number, timeZone: string, edge: DayEdge): Date | null {
  const local =
    edge === 'end'
      ? Date.UTC(year, month - 1, day, 23, 59, 59, 999)
      : Date.UTC(year, month - 1, day, 0, 0, 0, 0);
  const check = new Date(local);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return null;
  }
  const first = local - zoneOffset(local, timeZone);
  return new Date(local - zoneOffset(first, timeZone));
}

export type DayEdge = 'start' | 'end';

/**
 * A Date or time string as ISO-8601 UTC, or null when it is not a valid time. Strings are full ISO-8601 times
 * with a zone (`Z` or `+07:00`), or a bare date `YYYY-MM-DD`, read in `timeZone` as the end of that day (an
 * expiry) or its start (an issue date).
 */
export function toIsoTime(
  value: unknown,
  timeZone = DEFAULT_TIME_ZONE,
  edge: DayEdge = 'end',
): string | null {
  let d: Date | null = null;
  if (value instanceof Date) d = value;
  else if (typeof value === 'string') {
    const day = DATE_ONLY.exec(value);
    if (day) d = dayEdge(Number(day[1]), Number(day[2]), Number(day[3]), timeZone, edge);
    else if (ISO_TIME.test(value)) d = new Date(value);
  }
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

/**
 * Validates everything but `targets`; `now` is the registry clock (an expiry must lie after it), `timeZone`
 * the zone bare dates are read in.
 */
export function validateOrder(
  input: Omit<OrderInput, 'targets'>,
  now: Date,
  timeZone = DEFAULT_TIME_ZONE,
): RegistryResult<ValidOrder> {
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
    const r = text(input.reason, 'reason', MAX_ORDER_REASON);
    if (!r.ok) return r;
    reason = r.value;
  }
  const issuedAt =
    input.issuedAt === undefined ? now.toISOString() : toIsoTime(input.issuedAt, timeZone, 'start');
  if (issuedAt === null)
    return failure('invalid_input', `issuedAt '${String(input.issuedAt)}' is not a valid time`);
  let expiresAt: string | null = null;
  if (input.expiresAt !== undefined && input.expiresAt !== null) {
    expiresAt = toIsoTime(input.expiresAt, timeZone);
    if (expiresAt === null) {
      return failure('invalid_input', `expiresAt '${String(input.expiresAt)}' is not a valid time`);
    }
    if (expiresAt <= now.toISOString())
      return failure('invalid_input', `expiresAt ${expiresAt} is not in the future`);
  }
  let override: { reason: string } | null = null;
  if (input.override !== undefined && input.override !== null) {
    const r = text(input.override.reason, 'override.reason', MAX_DECISION_REASON);
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
