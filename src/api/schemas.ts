import { z } from 'zod';
import { AGENT_ID } from '../core/hub-client.ts';
import { ACTIONS, CATEGORIES } from '../core/types.ts';
import { MAX_DECISION_REASON, MAX_ORDER_REASON } from '../registry/order-input.ts';
import { ORDER_STATUSES, TOKEN_ROLES } from '../registry/types.ts';

/** Longest target accepted on the wire; canonicalization refuses anything past 2048 characters anyway. */
const target = z.string().min(1).max(4096);
const isoTime = z.iso.datetime({ offset: true });
/** A full ISO-8601 time, or a bare date (the end of that day in the hub's time zone; see docs/DECISIONS.md). */
const orderTime = z.union([isoTime, z.iso.date()], {
  error: 'expected an ISO-8601 time with a zone (2026-05-31T17:00:00Z) or a date (2026-05-31)',
});
const text = (max: number) => z.string().trim().min(1).max(max);

export const MAX_ORDER_TARGETS = 100_000;
export const MAX_CHECK_TARGETS = 1_000;

export const createOrderBody = z.strictObject({
  reference: text(200),
  authority: text(200),
  category: z.enum(CATEGORIES),
  action: z.enum(ACTIONS).optional(),
  reason: z.string().max(MAX_ORDER_REASON).optional(),
  issuedAt: orderTime.optional(),
  expiresAt: orderTime.nullable().optional(),
  targets: z.array(target).min(1).max(MAX_ORDER_TARGETS),
  override: z.strictObject({ reason: text(MAX_DECISION_REASON) }).optional(),
});

/** `?dryRun=true`: answer what the order would do, write nothing. */
export const createOrderQuery = z.strictObject({ dryRun: z.enum(['true', 'false']).optional() });

export const reasonBody = z.strictObject({ reason: text(MAX_DECISION_REASON) });
/** `release`: a false positive; the targets go on the released list. */
export const revokeBody = z.strictObject({
  reason: text(MAX_DECISION_REASON),
  release: z.boolean().optional(),
});
export const extendBody = z.strictObject({
  expiresAt: orderTime.nullable(),
  reason: text(MAX_DECISION_REASON).optional(),
});
export const revokeEntryBody = z.strictObject({
  target: target,
  reason: text(MAX_DECISION_REASON),
  release: z.boolean().optional(),
});
export const unreleaseBody = z.strictObject({ target: target, reason: text(MAX_DECISION_REASON) });

export const checkBody = z.strictObject({ targets: z.array(target).min(1).max(MAX_CHECK_TARGETS) });

export const tokenBody = z.strictObject({ role: z.enum(TOKEN_ROLES), name: text(200) });

const limit = z.coerce.number().int().min(1).max(1000).default(100);
const cursor = z.string().max(512).optional();

export const orderQuery = z.strictObject({
  cursor,
  limit,
  status: z.enum(ORDER_STATUSES).optional(),
  reference: z.string().max(200).optional(),
  authority: z.string().max(200).optional(),
  category: z.enum(CATEGORIES).optional(),
  referencePrefix: z.string().max(200).optional(),
  since: z.union([isoTime, z.iso.date()]).optional(),
  until: z.union([isoTime, z.iso.date()]).optional(),
});

export const orderEntriesQuery = z.strictObject({ cursor, limit });

export const entryQuery = z.strictObject({
  cursor,
  limit,
  q: z.string().max(2048).optional(),
  prefix: z.string().max(2048).optional(),
  kind: z.enum(['domain', 'url']).optional(),
  category: z.enum(CATEGORIES).optional(),
  active: z.enum(['true', 'false']).optional(),
  orderId: z.coerce.number().int().positive().optional(),
});

export const explainQuery = z.strictObject({ target: target });

export const auditQuery = z.strictObject({
  after: z.coerce.number().int().min(0).optional(),
  version: z.coerce.number().int().min(1).optional(),
  limit,
});

/** Decimal ids only: `0x1`, `1e0` or ` 1` do not name order 1. */
export const idParam = z.strictObject({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'must be a positive decimal integer')
    .transform(Number),
});

export const releasedQuery = z.strictObject({
  cursor,
  limit,
  q: z.string().max(2048).optional(),
  active: z.enum(['true', 'false']).optional(),
});

export const reportBody = z.strictObject({
  agentId: z.string().regex(AGENT_ID, "1 to 64 letters, digits, '.', '_', ':' or '-'").optional(),
  feed: z.enum(['dns', 'url', 'filter']),
  version: z.number().int().min(0),
  appliedAt: isoTime,
  outputs: z
    .array(z.strictObject({ format: z.string().max(40), path: z.string().max(1024), ok: z.boolean() }))
    .max(50),
  checkpoint: z
    .strictObject({
      version: z.number().int().min(1),
      treeSize: z.number().int().min(1),
      rootHash: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'base64 of a 32-byte root hash'),
    })
    .optional(),
});

export const keySetQuery = z.strictObject({ version: z.coerce.number().int().min(1).optional() });

const version = z.coerce.number().int().min(1);
export const checkpointQuery = z.strictObject({ version: version.optional() });
export const inclusionQuery = z.strictObject({ version, leaf: z.coerce.number().int().min(0) });
export const consistencyQuery = z.strictObject({ from: version, to: version });
export const logEntriesQuery = z.strictObject({ start: z.coerce.number().int().min(0).default(0), limit });
